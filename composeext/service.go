package composeext

import (
	"fmt"
	"time"

	"github.com/docker-backup/docker-backup/internal/retention"
)

// keyStrategy says which strategy uses a key that only one strategy uses.
var keyStrategy = map[string]Strategy{
	"volumes": StrategyVolumes, "exclude": StrategyVolumes, "stop": StrategyVolumes,
	"dump": StrategyDump, "restore": StrategyDump, "filename": StrategyDump, "user": StrategyDump,
	"preset": StrategyDump, "path": StrategyDump, "allow_empty": StrategyDump,
}

// serviceDecl is a service's x-backup as written.
type serviceDecl struct {
	Strategy  Strategy          `mapstructure:"strategy"`
	Preset    string            `mapstructure:"preset"`
	Path      string            `mapstructure:"path"`
	Volumes   []string          `mapstructure:"volumes"`
	Exclude   []string          `mapstructure:"exclude"`
	Stop      bool              `mapstructure:"stop"`
	Dump      command           `mapstructure:"dump"`
	Restore   command           `mapstructure:"restore"`
	Filename  string            `mapstructure:"filename"`
	User      string            `mapstructure:"user"`
	Pre       commands          `mapstructure:"pre"`
	Post      commands          `mapstructure:"post"`
	OnSuccess commands          `mapstructure:"on_success"`
	OnFailure commands          `mapstructure:"on_failure"`
	Timeout   Duration          `mapstructure:"timeout"`
	Retention *retention.Policy `mapstructure:"retention"`
	// Verify is the restore drill's own check, run in a throwaway copy of the service.
	Verify command `mapstructure:"verify"`

	// AllowEmpty lets a preset's dump store an empty database set instead of failing.
	AllowEmpty bool `mapstructure:"allow_empty"`
}

// minTimeout is the shortest x-backup.timeout: below a second no backup, not even a
// hook's exec, can begin, so a shorter one is a typo (1ns, 5ms for 5m).
const minTimeout = time.Second

// decodeService reads services.NAME.x-backup; base is that path. The schema checks
// each key; the rules between keys are checked here.
func (d *decoder) decodeService(base string, v any) (serviceDecl, bool) {
	var sd serviceDecl
	bad := d.lang.check(d.lang.service, base, v, d.probs)
	if bad[""] {
		return sd, false
	}
	switch t := v.(type) {
	case bool:
		sd.Strategy = StrategyNone
		if t {
			sd.Strategy = StrategyVolumes
		}
	case string:
		sd.Strategy = Strategy(t)
		if isPreset(t) {
			sd.Strategy, sd.Preset = StrategyDump, t
		}
	case map[string]any:
		d.decode(base, t, bad, &sd)
		if bad["strategy"] || bad["preset"] {
			return sd, false
		}
		d.serviceRules(base, t, &sd)
	}
	return sd, true
}

// serviceRules applies the defaults and the rules between the keys of a service's
// x-backup mapping m, decoded into sd.
func (d *decoder) serviceRules(base string, m map[string]any, sd *serviceDecl) {
	if sd.Strategy == "" {
		sd.Strategy = StrategyVolumes
		if _, ok := m["dump"]; ok || m["preset"] != nil {
			sd.Strategy = StrategyDump
		}
	}
	d.strategyKeys(base, m, sd.Strategy)
	if sd.Filename == "." || sd.Filename == ".." {
		d.probs.addf(base+".filename", "got %q, want a plain file name (no slashes, not . or ..)", sd.Filename)
	}
	if sd.Timeout != 0 && time.Duration(sd.Timeout) < minTimeout {
		d.probs.addf(base+".timeout", "got %q, want at least %s (it bounds the whole backup of the service, hooks included)", m["timeout"], minTimeout)
		sd.Timeout = 0
	}
	_, hasDump := m["dump"]
	_, hasPreset := m["preset"]
	if sd.Strategy == StrategyDump && !hasDump && !hasPreset {
		d.probs.addf(base+".dump", "required for strategy dump (a command whose output is the backup, or set preset)")
	}
	if sd.AllowEmpty && sd.Preset == "" && sd.Strategy == StrategyDump {
		d.probs.addf(base+".allow_empty", "only used with a preset (your own dump command decides what an empty dump means)")
	}
}

// strategyKeys reports keys that the chosen strategy does not use.
func (d *decoder) strategyKeys(base string, m map[string]any, s Strategy) {
	for key := range m {
		switch want, ok := keyStrategy[key]; {
		case s == StrategyNone && key == "verify":
			d.probs.addf(base+"."+key, "not used with strategy none (nothing is backed up, so there is nothing to verify)")
		case s == StrategyNone && key != "strategy":
			d.probs.addf(base+"."+key, "not used with strategy none")
		case ok && want != s:
			d.probs.addf(base+"."+key, "only used with strategy %s, not %s", want, s)
		}
	}
}

// serviceBase is the key path of a service's x-backup.
func serviceBase(service string) string {
	return fmt.Sprintf("services.%s.x-backup", service)
}
