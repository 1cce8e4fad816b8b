package composeext

import (
	"fmt"

	"github.com/docker-backup/docker-backup/internal/metrics"
	"github.com/docker-backup/docker-backup/internal/notify"
	"github.com/docker-backup/docker-backup/internal/retention"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// projectDecl is the top-level x-backup as written, before overrides and defaults. Each
// feature's part has the feature's own type and checks.
type projectDecl struct {
	Repository      string                `mapstructure:"repository"`
	PasswordFile    string                `mapstructure:"password_file"`
	PasswordCommand command               `mapstructure:"password_command"`
	EnvFiles        []string              `mapstructure:"env_file"`
	Environment     any                   `mapstructure:"environment"`
	Image           string                `mapstructure:"image"`
	AgentImage      string                `mapstructure:"agent_image"`
	DockerSocket    string                `mapstructure:"docker_socket"`
	Host            string                `mapstructure:"host"`
	Retention       *retention.Policy     `mapstructure:"retention"`
	Schedule        string                `mapstructure:"schedule"`
	Check           *schedule.Maintenance `mapstructure:"check"`
	Prune           *schedule.Maintenance `mapstructure:"prune"`
	Verify          *schedule.Maintenance `mapstructure:"verify"`
	Parallel        int                   `mapstructure:"parallel"`
	NotifyDecl      []notifyDecl          `mapstructure:"notify"`
	HealthcheckDecl *healthcheckDecl      `mapstructure:"healthcheck"`
	Metrics         *metrics.Config       `mapstructure:"metrics"`
	Copies          map[string]copyDecl   `mapstructure:"copies"`

	// Read from the above by their features.
	Env         map[string]string   `mapstructure:"-"`
	Notify      []notify.Target     `mapstructure:"-"`
	Healthcheck *notify.Healthcheck `mapstructure:"-"`
}

// decodeProject reads the top-level x-backup; v is nil when there is none.
func (d *decoder) decodeProject(v any, lookup func(string) (string, bool)) projectDecl {
	const base = "x-backup"
	var pd projectDecl
	if v == nil {
		return pd
	}
	bad := d.lang.check(d.lang.project, base, v, d.probs)
	if bad[""] {
		return pd
	}
	d.decode(base, v, bad, &pd)
	if pd.Environment != nil {
		pd.Env = environment(pd.Environment, lookup)
	}
	pd.Schedule = d.cronSpec(base+".schedule", pd.Schedule)
	pd.Check = d.maintenance(base+".check", pd.Check)
	pd.Prune = d.maintenance(base+".prune", pd.Prune)
	pd.Verify = d.maintenance(base+".verify", pd.Verify)
	if pd.Metrics != nil {
		if msg := pd.Metrics.Check(); msg != "" {
			d.probs.addf(base+".metrics.listen", "%s", msg)
			pd.Metrics = nil
		}
	}
	d.decodeCopies(base+".copies", pd.Copies, lookup)
	pd.Notify = d.notifyTargets(base+".notify", pd.NotifyDecl)
	pd.Healthcheck = d.healthcheck(base+".healthcheck", pd.HealthcheckDecl)
	return pd
}

// cronSpec checks a cron expression of the scheduler's; "" when it is wrong or unset.
func (d *decoder) cronSpec(path, spec string) string {
	if spec == "" {
		return ""
	}
	if msg := schedule.CheckSpec(spec); msg != "" {
		d.probs.addf(path, "%s", msg)
		return ""
	}
	return spec
}

// maintenance checks a maintenance job's schedule; nil when it is wrong or unset.
func (d *decoder) maintenance(path string, m *schedule.Maintenance) *schedule.Maintenance {
	if m == nil || d.cronSpec(path+".schedule", m.Schedule) == "" {
		return nil
	}
	return m
}

// notifyDecl is an entry of x-backup.notify: a URL, or {url, on}.
type notifyDecl struct {
	URL string   `mapstructure:"url"`
	On  []string `mapstructure:"on"`
	// Short is true for the URL form: a problem with the URL is then at the entry.
	Short bool `mapstructure:"short"`
}

// notifyTargets checks x-backup.notify's targets (package notify).
func (d *decoder) notifyTargets(path string, decls []notifyDecl) []notify.Target {
	var out []notify.Target
	for i, nd := range decls {
		if nd.URL == "" && !nd.Short && nd.On == nil {
			continue // refused by the schema
		}
		t, err := notify.NewTarget(nd.URL, nd.On)
		if err != nil {
			at := fmt.Sprintf("%s[%d]", path, i)
			if !nd.Short {
				at += ".url"
			}
			d.probs.addf(at, "%v", err)
			continue
		}
		out = append(out, t)
	}
	return out
}

// healthcheckDecl is x-backup.healthcheck: a base URL, or start, success and failure URLs.
type healthcheckDecl struct {
	Base    *string `mapstructure:"base"`
	Start   *string `mapstructure:"start"`
	Success *string `mapstructure:"success"`
	Failure *string `mapstructure:"failure"`
}

// healthcheck checks x-backup.healthcheck's URLs (package notify); nil when none is right.
func (d *decoder) healthcheck(path string, hd *healthcheckDecl) *notify.Healthcheck {
	if hd == nil {
		return nil
	}
	if hd.Base != nil {
		hc, err := notify.BaseHealthcheck(*hd.Base)
		if err != nil {
			d.probs.addf(path, "%v", err)
		}
		return hc
	}
	hc := &notify.Healthcheck{}
	for _, p := range []struct {
		key string
		url *string
		dst **notify.Ping
	}{{"start", hd.Start, &hc.Start}, {"success", hd.Success, &hc.Success}, {"failure", hd.Failure, &hc.Failure}} {
		if p.url == nil {
			continue
		}
		ping, err := notify.NewPing(*p.url)
		if err != nil {
			d.probs.addf(path+"."+p.key, "%v", err)
		}
		*p.dst = ping
	}
	if *hc == (notify.Healthcheck{}) {
		return nil
	}
	return hc
}
