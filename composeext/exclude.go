package composeext

import (
	"fmt"
	"path"
	"strings"
)

// Excludes are written as the service sees its files (/data/cache, *.tmp); restic
// matches them against the snapshot's paths (/backup/<service>/<key>/cache). A pattern
// with a leading / is a service path: the mount that holds it (the longest target that
// is a prefix) turns it into its snapshot path. A pattern without one matches at any
// depth, as restic's own do, and is passed on unchanged.

// translateExcludes turns a volumes service's exclude patterns into snapshot paths.
func (d *decoder) translateExcludes(base string, mounts []Mount, patterns []string) []string {
	out := make([]string, 0, len(patterns))
	for i, p := range patterns {
		if !strings.HasPrefix(p, "/") {
			out = append(out, p)
			continue
		}
		m, rest, ok := mountHolding(mounts, p)
		if !ok {
			d.probs.addf(fmt.Sprintf("%s.exclude[%d]", base, i), "%s is not inside a backed-up mount (want a path under %s, or a pattern without a leading / to match at any depth)",
				p, mountTargets(mounts))
			continue
		}
		out = append(out, strings.TrimSuffix(path.Join(m.Path, rest), "/"))
	}
	return out
}

// mountHolding finds the mount whose target holds the service path p, the longest
// such target, and p relative to it.
func mountHolding(mounts []Mount, p string) (Mount, string, bool) {
	var best Mount
	var rest string
	found := false
	for _, m := range mounts {
		t := strings.TrimSuffix(m.Target, "/")
		if p != t && !strings.HasPrefix(p, t+"/") {
			continue
		}
		if !found || len(t) > len(strings.TrimSuffix(best.Target, "/")) {
			best, rest, found = m, strings.TrimPrefix(p, t), true
		}
	}
	return best, strings.TrimPrefix(rest, "/"), found
}

// mountTargets lists the mounts' targets for a message.
func mountTargets(mounts []Mount) string {
	t := make([]string, len(mounts))
	for i, m := range mounts {
		t[i] = m.Target
	}
	if len(t) == 0 {
		return "a backed-up mount"
	}
	return strings.Join(t, " or ")
}

// excludedBy reports whether restic would exclude the snapshot path p with one of the
// (translated) patterns: an anchored pattern matches p or one of its parents; one
// without a leading / matches the last components of p or of a parent.
func excludedBy(p string, patterns []string) bool {
	for a := p; a != "/" && a != "."; a = path.Dir(a) {
		for _, pat := range patterns {
			pat = strings.TrimSuffix(pat, "/")
			if strings.HasPrefix(pat, "/") {
				if ok, _ := path.Match(pat, a); ok {
					return true
				}
				continue
			}
			n := strings.Count(pat, "/") + 1
			parts := strings.Split(strings.TrimPrefix(a, "/"), "/")
			if len(parts) < n {
				continue
			}
			if ok, _ := path.Match(pat, strings.Join(parts[len(parts)-n:], "/")); ok {
				return true
			}
		}
	}
	return false
}

// keptPaths are the paths inside mount m, relative to it, that the backup leaves out by
// name (an anchored pattern with no wildcard): a restore leaves them in place.
func keptPaths(m Mount, patterns []string) []string {
	var keep []string
	for _, pat := range patterns {
		if !strings.HasPrefix(pat, m.Path+"/") || strings.ContainsAny(pat, `*?[\`) {
			continue
		}
		keep = appendNew(keep, strings.TrimPrefix(pat, m.Path+"/"))
	}
	return keep
}

// appendNew appends s unless list holds it.
func appendNew(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

// ReplacedExcludes lists the service's excludes, as written, that a restore does not
// keep in place: patterns (a wildcard, or no leading /). Their live content is replaced
// by a restore, and survives only in its rollback volume.
func (s ServicePlan) ReplacedExcludes() []string {
	var out []string
	for i, p := range s.Exclude {
		if i < len(s.ExcludePaths) && strings.HasPrefix(s.ExcludePaths[i], "/") && !strings.ContainsAny(s.ExcludePaths[i], `*?[\`) {
			continue
		}
		out = append(out, p)
	}
	return out
}
