package composeext

import (
	"fmt"
	"strings"
	"time"
)

// serviceKeys are the keys of a service's x-backup mapping.
var serviceKeys = []string{
	"strategy", "preset", "path", "allow_empty", "volumes", "exclude", "stop",
	"dump", "restore", "filename", "user", "pre", "post", "on_success", "on_failure",
	"timeout", "retention", "verify",
}

// keyStrategy says which strategy uses a key that only one strategy uses.
var keyStrategy = map[string]Strategy{
	"volumes": StrategyVolumes, "exclude": StrategyVolumes, "stop": StrategyVolumes,
	"dump": StrategyDump, "restore": StrategyDump, "filename": StrategyDump, "user": StrategyDump,
	"preset": StrategyDump, "path": StrategyDump, "allow_empty": StrategyDump,
}

// serviceDecl is a service's x-backup as written.
type serviceDecl struct {
	Strategy  Strategy
	Preset    string
	Path      string
	Volumes   []string
	Exclude   []string
	Stop      bool
	Dump      []string
	Restore   []string
	Filename  string
	User      string
	Pre       [][]string
	Post      [][]string
	OnSuccess [][]string
	OnFailure [][]string
	Timeout   Duration
	Retention *Retention
	// Verify is the restore drill's own check, run in a throwaway copy of the service.
	Verify []string

	// AllowEmpty lets a preset's dump store an empty database set instead of failing.
	AllowEmpty bool
}

// strategyWant lists the shorthands a service's x-backup accepts, for messages.
func strategyWant() string {
	return "false, true, none, volumes, a preset (" + strings.Join(presetNames(), ", ") + ") or a mapping"
}

// decodeService reads services.NAME.x-backup; base is that path.
func (d *decoder) decodeService(base string, v any) (serviceDecl, bool) {
	var sd serviceDecl
	switch t := v.(type) {
	case bool:
		sd.Strategy = StrategyNone
		if t {
			sd.Strategy = StrategyVolumes
		}
		return sd, true
	case string:
		switch {
		case t == string(StrategyNone) || t == string(StrategyVolumes):
			sd.Strategy = Strategy(t)
		case isPreset(t):
			sd.Strategy, sd.Preset = StrategyDump, t
		case t == string(StrategyDump):
			d.probs.addf(base, "strategy dump needs a command (write x-backup: {dump: COMMAND} or name a preset)")
			return sd, false
		default:
			d.probs.addf(base, "unknown strategy or preset %q (want %s)", t, strategyWant())
			return sd, false
		}
		return sd, true
	case map[string]any:
		return d.decodeServiceMap(base, t)
	}
	d.probs.addf(base, "got %s, want %s", describe(v), strategyWant())
	return sd, false
}

// decodeServiceMap reads the mapping form of a service's x-backup.
func (d *decoder) decodeServiceMap(base string, v map[string]any) (serviceDecl, bool) {
	var sd serviceDecl
	valid := true
	m, _ := d.fields(base, v, serviceKeys, "a mapping")
	if raw, ok := m["strategy"]; ok {
		if s, ok := d.str(base+".strategy", raw); ok {
			switch Strategy(s) {
			case StrategyNone, StrategyVolumes, StrategyDump:
				sd.Strategy = Strategy(s)
			default:
				d.probs.addf(base+".strategy", "unknown strategy %q (want none, volumes or dump)", s)
				valid = false
			}
		}
	}
	if raw, ok := m["preset"]; ok {
		if s, ok := d.str(base+".preset", raw); ok {
			if isPreset(s) {
				sd.Preset = s
			} else {
				d.probs.addf(base+".preset", "unknown preset %q (want %s)", s, strings.Join(presetNames(), ", "))
				valid = false
			}
		}
	}
	if sd.Strategy == "" {
		sd.Strategy = StrategyVolumes
		if _, ok := m["dump"]; ok || m["preset"] != nil {
			sd.Strategy = StrategyDump
		}
	}
	d.strategyKeys(base, m, sd.Strategy)
	if raw, ok := m["path"]; ok {
		sd.Path, _ = d.str(base+".path", raw)
	}
	if raw, ok := m["allow_empty"]; ok {
		sd.AllowEmpty, _ = d.boolean(base+".allow_empty", raw)
	}
	if raw, ok := m["volumes"]; ok {
		sd.Volumes, _ = d.strList(base+".volumes", raw)
	}
	if raw, ok := m["exclude"]; ok {
		sd.Exclude, _ = d.strList(base+".exclude", raw)
		d.emptyPatterns(base+".exclude", raw)
	}
	if raw, ok := m["stop"]; ok {
		sd.Stop, _ = d.boolean(base+".stop", raw)
	}
	if raw, ok := m["dump"]; ok {
		sd.Dump, _ = d.command(base+".dump", raw)
	}
	if raw, ok := m["restore"]; ok {
		sd.Restore, _ = d.command(base+".restore", raw)
	}
	if raw, ok := m["filename"]; ok {
		if s, ok := d.str(base+".filename", raw); ok {
			if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\") {
				d.probs.addf(base+".filename", "got %q, want a plain file name (no slashes, not . or ..)", s)
			}
			sd.Filename = s
		}
	}
	if raw, ok := m["user"]; ok {
		sd.User, _ = d.str(base+".user", raw)
	}
	if raw, ok := m["pre"]; ok {
		sd.Pre, _ = d.commands(base+".pre", raw)
	}
	if raw, ok := m["post"]; ok {
		sd.Post, _ = d.commands(base+".post", raw)
	}
	if raw, ok := m["on_success"]; ok {
		sd.OnSuccess, _ = d.commands(base+".on_success", raw)
	}
	if raw, ok := m["on_failure"]; ok {
		sd.OnFailure, _ = d.commands(base+".on_failure", raw)
	}
	if raw, ok := m["timeout"]; ok {
		if t, ok := d.duration(base+".timeout", raw); ok {
			if time.Duration(t) < minTimeout {
				d.probs.addf(base+".timeout", "got %q, want at least %s (it bounds the whole backup of the service, hooks included)", raw, minTimeout)
			} else {
				sd.Timeout = t
			}
		}
	}
	if raw, ok := m["retention"]; ok {
		sd.Retention = d.retention(base+".retention", raw)
	}
	if raw, ok := m["verify"]; ok {
		sd.Verify, _ = d.command(base+".verify", raw)
	}
	if sd.Strategy == StrategyDump && sd.Dump == nil && sd.Preset == "" {
		_, hasDump := m["dump"]
		if _, hasPreset := m["preset"]; !hasDump && !hasPreset {
			d.probs.addf(base+".dump", "required for strategy dump (a command whose output is the backup, or set preset)")
		}
	}
	if sd.AllowEmpty && sd.Preset == "" && sd.Strategy == StrategyDump {
		d.probs.addf(base+".allow_empty", "only used with a preset (your own dump command decides what an empty dump means)")
	}
	// Problems with other keys do not stop resolving: the rest is still checked.
	return sd, valid
}

// minTimeout is the shortest x-backup.timeout: below a second no backup, not even a
// hook's exec, can begin, so a shorter one is a typo (1ns, 5ms for 5m).
const minTimeout = time.Second

// emptyPatterns reports exclude patterns that are empty: restic matches nothing with
// one, or everything, depending on where it lands, and neither is what was meant.
// Only strings are looked at: strList has reported the rest.
func (d *decoder) emptyPatterns(path string, raw any) {
	const msg = "empty pattern (want a restic pattern such as *.tmp, or a path such as /data/cache)"
	if s, ok := raw.(string); ok && strings.TrimSpace(s) == "" {
		d.probs.addf(path, msg)
	}
	list, _ := raw.([]any)
	for i, e := range list {
		if s, ok := e.(string); ok && strings.TrimSpace(s) == "" {
			d.probs.addf(fmt.Sprintf("%s[%d]", path, i), msg)
		}
	}
}

// strategyKeys reports keys that the chosen strategy does not use.
func (d *decoder) strategyKeys(base string, m map[string]any, s Strategy) {
	for key := range m {
		if s == StrategyNone && key == "verify" {
			d.probs.addf(base+"."+key, "not used with strategy none (nothing is backed up, so there is nothing to verify)")
			continue
		}
		if s == StrategyNone && key != "strategy" {
			d.probs.addf(base+"."+key, "not used with strategy none")
			continue
		}
		if want, ok := keyStrategy[key]; ok && want != s {
			d.probs.addf(base+"."+key, "only used with strategy %s, not %s", want, s)
		}
	}
}

// serviceBase is the key path of a service's x-backup.
func serviceBase(service string) string {
	return fmt.Sprintf("services.%s.x-backup", service)
}
