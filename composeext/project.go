package composeext

import (
	"regexp"
	"slices"
	"strings"
)

// hostNameRE is what x-backup.host may be: it becomes part of restic's --host.
var hostNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

// projectKeys are the keys of the top-level x-backup.
var projectKeys = []string{
	"repository", "password_file", "password_command", "env_file", "environment",
	"image", "agent_image", "docker_socket", "host", "retention", "schedule", "check", "prune", "verify", "parallel",
	"notify", "healthcheck", "metrics",
}

// retentionKeys are the keys of a retention mapping, restic's --keep-* flags.
var retentionKeys = []string{
	"keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "keep_within",
}

// projectDecl is the top-level x-backup as written, before overrides and defaults.
type projectDecl struct {
	Repository      string
	PasswordFile    string
	PasswordCommand []string
	EnvFiles        []string
	Environment     map[string]string
	Image           string
	AgentImage      string
	DockerSocket    string
	Host            string
	Retention       *Retention
	Schedule        string
	Check           *Job
	Prune           *Job
	Verify          *Job
	Parallel        int
	Notify          []NotifyTarget
	Healthcheck     *Healthcheck
	Metrics         *Metrics
}

// withinRE matches restic's duration for --keep-within: 1y2m3d4h, in any of those units.
var withinRE = regexp.MustCompile(`^([0-9]+[ymdh])+$`)

// decodeProject reads the top-level x-backup; v is nil when there is none.
func (d *decoder) decodeProject(v any, lookup func(string) (string, bool)) projectDecl {
	var pd projectDecl
	if v == nil {
		return pd
	}
	const base = "x-backup"
	m, ok := d.fields(base, v, projectKeys, "a mapping")
	if !ok {
		return pd
	}
	if v, ok := m["repository"]; ok {
		pd.Repository, _ = d.str(base+".repository", v)
		if pd.Repository == "" {
			d.probs.addf(base+".repository", "empty (want a restic repository: a path, s3:…, sftp:…, rest:…)")
		}
	}
	if v, ok := m["password_file"]; ok {
		pd.PasswordFile, _ = d.str(base+".password_file", v)
	}
	if v, ok := m["password_command"]; ok {
		pd.PasswordCommand, _ = d.command(base+".password_command", v)
	}
	if pd.PasswordFile != "" && pd.PasswordCommand != nil {
		d.probs.addf(base+".password_command", "password_file is set too (want one of them)")
	}
	if v, ok := m["env_file"]; ok {
		pd.EnvFiles, _ = d.strList(base+".env_file", v)
	}
	if v, ok := m["environment"]; ok {
		pd.Environment = d.environment(base+".environment", v, lookup)
	}
	if v, ok := m["image"]; ok {
		pd.Image, _ = d.str(base+".image", v)
	}
	if v, ok := m["agent_image"]; ok {
		pd.AgentImage, _ = d.str(base+".agent_image", v)
	}
	if v, ok := m["docker_socket"]; ok {
		if s, ok := d.str(base+".docker_socket", v); ok {
			pd.DockerSocket = s
			if !strings.HasPrefix(s, "/") {
				d.probs.addf(base+".docker_socket", "%q is not an absolute path (want the engine's socket on the engine's host, e.g. /run/user/1000/docker.sock)", s)
			}
		}
	}
	if v, ok := m["host"]; ok {
		if h, ok := d.str(base+".host", v); ok {
			pd.Host = h
			if !hostNameRE.MatchString(h) {
				d.probs.addf(base+".host", "%q is not a machine name (want letters, digits, '.', '_' or '-', starting with a letter or digit)", h)
			}
		}
	}
	if v, ok := m["retention"]; ok {
		pd.Retention = d.retention(base+".retention", v)
	}
	if v, ok := m["schedule"]; ok {
		pd.Schedule = d.cronSpec(base+".schedule", v)
	}
	if v, ok := m["check"]; ok {
		pd.Check = d.job(base+".check", v, checkKeys)
	}
	if v, ok := m["prune"]; ok {
		pd.Prune = d.job(base+".prune", v, pruneKeys)
	}
	if v, ok := m["verify"]; ok {
		pd.Verify = d.job(base+".verify", v, verifyKeys)
	}
	if v, ok := m["parallel"]; ok {
		pd.Parallel, _ = d.integer(base+".parallel", v, 1)
	}
	pd.Notify, pd.Healthcheck = d.alerts(base, m)
	if v, ok := m["metrics"]; ok {
		pd.Metrics = d.metrics(base+".metrics", v)
	}
	return pd
}

// retention reads a retention mapping; it must keep something.
func (d *decoder) retention(path string, v any) *Retention {
	m, ok := d.fields(path, v, retentionKeys, "a mapping of keep_* rules")
	if !ok {
		return nil
	}
	unknown := false
	for k := range m {
		unknown = unknown || !slices.Contains(retentionKeys, k)
	}
	r := &Retention{}
	counts := map[string]*int{
		"keep_last": &r.KeepLast, "keep_hourly": &r.KeepHourly, "keep_daily": &r.KeepDaily,
		"keep_weekly": &r.KeepWeekly, "keep_monthly": &r.KeepMonthly, "keep_yearly": &r.KeepYearly,
	}
	for key, dst := range counts {
		if v, ok := m[key]; ok {
			*dst, _ = d.integer(path+"."+key, v, 1)
		}
	}
	if v, ok := m["keep_within"]; ok {
		if s, ok := d.str(path+".keep_within", v); ok {
			if !withinRE.MatchString(s) {
				d.probs.addf(path+".keep_within", "got %q, want a duration like 7d, 1m15d or 2y", s)
			} else {
				r.KeepWithin = s
			}
		}
	}
	if *r == (Retention{}) {
		if !unknown {
			d.probs.addf(path, "keeps nothing (want at least one of %s)", strings.Join(retentionKeys, ", "))
		}
		return nil
	}
	return r
}
