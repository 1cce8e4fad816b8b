package composeext

import (
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// secretNameRE matches the names of variables whose values are treated as secrets.
var secretNameRE = regexp.MustCompile(`(?i)(pass|secret|token|key|credential|auth|pwd)`)

// minSecretLen keeps short values ("1", "yes") from being masked everywhere.
const minSecretLen = 4

// collectSecrets gathers the values a user's commands may have received by compose
// interpolation (${DB_PASSWORD} in a dump command), so that Masked can hide them.
func collectSecrets(project *types.Project, repo Repository) []string {
	set := map[string]bool{}
	add := func(name, value string) {
		if len(value) >= minSecretLen && (name == "" || secretNameRE.MatchString(name)) {
			set[value] = true
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
	add("", repo.Password)
	for k, v := range repo.Env {
		if IsSecretSetting(k) {
			add("", v)
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	// Longest first, so that a secret containing another is masked whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// Masked returns a copy of the plan safe to print: secret values that compose
// interpolation put into commands are replaced by ***. Use it for display only; run the
// commands of the original plan.
func (p *Plan) Masked() *Plan {
	out := *p
	if len(p.Secrets) == 0 {
		return &out
	}
	mask := func(argv []string) []string {
		if argv == nil {
			return nil
		}
		masked := make([]string, len(argv))
		for i, a := range argv {
			for _, s := range p.Secrets {
				a = strings.ReplaceAll(a, s, "***")
			}
			masked[i] = a
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

// Mask replaces the plan's secret values in s by ***: for error lines and logs.
func (p *Plan) Mask(s string) string {
	for _, secret := range p.Secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}
