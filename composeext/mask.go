package composeext

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// secretNameRE matches the names of variables whose values are treated as secrets: the
// one rule of masking, of schedule --print and of what a helper may see. A DSN or a
// database URL holds a password; PW stands alone or between underscores (PG_PW), so
// that words like PWM or UPWARD stay plain.
var secretNameRE = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|pwd|private|cert|dsn|(^|_)pw($|_)`)

// IsSecretName reports whether a variable's name says that its value is a secret.
func IsSecretName(name string) bool { return secretNameRE.MatchString(name) }

// minSecretLen keeps short values ("1", "yes") from being masked everywhere; a short
// password inside a URL or a key=value DSN is still masked there (maskCredentials).
const minSecretLen = 4

// urlPasswordRE finds the password of a URL (scheme://user:password@host), wherever it
// stands in a line: a DSN a dump command prints, a repository URL in restic's errors.
var urlPasswordRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/?#@'"]*):([^\s/?#@'"]+)@`)

// kvPasswordRE finds a password given as key=value (libpq's password=…, MYSQL_PWD=…,
// ?password=… in a query); the shell's own PWD=/path is no password.
var kvPasswordRE = regexp.MustCompile(`(?i)(password|passwd|_pwd)=([^\s&;'"]+)`)

// maskCredentials hides the passwords a line shows by their form alone, whatever their
// value: those of URLs and of key=value pairs.
func maskCredentials(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "=") {
		return s
	}
	s = urlPasswordRE.ReplaceAllString(s, "${1}:***@")
	return kvPasswordRE.ReplaceAllString(s, "${1}=***")
}

// envSecrets are the values of secret-looking variables, and the passwords of the URLs
// any variable holds (DATABASE_URL=postgres://app:pw@db/app).
func envSecrets(name, value string) []string {
	var out []string
	if len(value) >= minSecretLen && (name == "" || IsSecretName(name)) {
		out = append(out, value)
	}
	for _, m := range urlPasswordRE.FindAllStringSubmatch(value, -1) {
		if len(m[2]) >= minSecretLen {
			out = append(out, m[2])
		}
	}
	return out
}

// collectSecrets gathers the values a user's commands may have received by compose
// interpolation (${DB_PASSWORD} in a dump command), so that Masked can hide them.
func collectSecrets(project *types.Project, repos ...Repository) []string {
	set := map[string]bool{}
	add := func(name, value string) {
		for _, v := range envSecrets(name, value) {
			set[v] = true
		}
	}
	for k, v := range project.Environment {
		add(k, v)
	}
	for _, svc := range project.Services {
		for k, v := range svc.Environment {
			if v != nil {
				add(k, *v)
			}
		}
	}
	for _, repo := range repos {
		add("", repo.Password)
		for k, v := range repo.Env {
			if IsSecretSetting(k) {
				add("", v)
			}
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sortSecrets(out)
	return out
}

// sortSecrets orders secrets longest first, so that a secret containing another is
// masked whole.
func sortSecrets(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
}

// AddSecretEnv adds to the plan's secrets those of a container's environment ("K=V",
// as the engine gives it): a service's container may hold a password that the compose
// file does not (an image's ENV, a container created from an older .env), and a dump
// or hook that fails may print it. Call it before the plan is shared between goroutines.
func (p *Plan) AddSecretEnv(env []string) {
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		for _, v := range envSecrets(name, value) {
			if !slices.Contains(p.Secrets, v) {
				p.Secrets = append(p.Secrets, v)
			}
		}
	}
	sortSecrets(p.Secrets)
}

// Masked returns a copy of the plan safe to print: secret values that compose
// interpolation put into commands are replaced by ***. Use it for display only; run the
// commands of the original plan.
func (p *Plan) Masked() *Plan {
	out := *p
	mask := func(argv []string) []string {
		if argv == nil {
			return nil
		}
		masked := make([]string, len(argv))
		for i, a := range argv {
			masked[i] = p.Mask(a)
		}
		return masked
	}
	maskAll := func(cmds [][]string) [][]string {
		if cmds == nil {
			return nil
		}
		out := make([][]string, len(cmds))
		for i, c := range cmds {
			out[i] = mask(c)
		}
		return out
	}
	out.Repository.PasswordCommand = mask(p.Repository.PasswordCommand)
	if p.Copies != nil {
		out.Copies = make([]CopyPlan, len(p.Copies))
		for i, c := range p.Copies {
			c.Repository.PasswordCommand = mask(c.Repository.PasswordCommand)
			out.Copies[i] = c
		}
	}
	out.Services = make([]ServicePlan, len(p.Services))
	for i, s := range p.Services {
		s.Pre, s.Post = maskAll(s.Pre), maskAll(s.Post)
		s.OnSuccess, s.OnFailure = maskAll(s.OnSuccess), maskAll(s.OnFailure)
		s.Verify = mask(s.Verify)
		if s.Dump != nil {
			d := *s.Dump
			d.Command, d.Restore = mask(d.Command), mask(d.Restore)
			if d.Drill != nil {
				dr := *d.Drill
				dr.Ready, dr.Check, dr.Load = mask(dr.Ready), mask(dr.Check), mask(dr.Load)
				d.Drill = &dr
			}
			s.Dump = &d
		}
		out.Services[i] = s
	}
	return &out
}

// Mask replaces the plan's secret values in s by ***, and the password of any URL or
// key=value pair: the one masker of every line that leaves the process (console, --json,
// logs, notices, pings, metrics).
func (p *Plan) Mask(s string) string {
	for _, secret := range p.Secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return maskCredentials(s)
}
