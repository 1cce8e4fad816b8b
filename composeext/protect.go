package composeext

import (
	"fmt"
	"path"
	"strings"
)

// A bind mount of the project folder (.:/app) holds the backup itself: the local
// repository, its key or password file, the compose files. Copied, every snapshot would
// hold the repository's previous state; restored, the swap would put an old repository
// and old compose files in place of the live ones. So such a mount is refused unless
// the service's excludes leave those paths out, and what is excluded by name is kept in
// place by a restore (Mount.Keep).

// protectedPath is a host path that belongs to the backup, and what it is.
type protectedPath struct{ what, path string }

// protectedPaths lists the plan's own files on the engine's host. With a remote engine
// that is the repository alone: the password file and the compose files are this
// machine's, and a bind mount of the same path on the engine's host is not them.
func protectedPaths(plan *Plan) []protectedPath {
	var out []protectedPath
	if plan.Repository.Local && plan.Repository.URL != "" {
		out = append(out, protectedPath{"the backup repository", plan.Repository.URL})
	}
	if plan.Repository.OnEngine() {
		return out
	}
	if f := plan.Repository.PasswordFile; f != "" {
		what := "the repository's password file"
		if plan.Repository.GeneratePassword {
			what = "the repository's key file"
		}
		out = append(out, protectedPath{what, f})
	}
	for _, f := range plan.ComposeFiles {
		out = append(out, protectedPath{"the compose file", f})
	}
	return out
}

// within returns p relative to dir when p is dir or inside it.
func within(dir, p string) (string, bool) {
	dir, p = path.Clean(dir), path.Clean(p)
	if p == dir {
		return "", true
	}
	if dir == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	rel, ok := strings.CutPrefix(p, dir+"/")
	return rel, ok
}

// protectMounts refuses bind mounts that hold a protected path the excludes do not
// leave out, and sets each mount's Keep: what the excludes leave out by name, and the
// protected paths they leave out by pattern.
func (d *decoder) protectMounts(base string, mounts []Mount, excludes []string, prot []protectedPath) {
	for i := range mounts {
		m := &mounts[i]
		m.Keep = keptPaths(*m, excludes)
		if m.Type != "bind" {
			continue
		}
		var held, want []string
		for _, p := range prot {
			rel, ok := within(m.Source, p.path)
			if !ok {
				continue
			}
			if rel == "" {
				d.probs.addf(base+".volumes", "bind mount %s (at %s) is %s itself: it cannot be backed up into itself", m.Source, m.Target, p.what)
				held = nil
				break
			}
			if excludedBy(path.Join(m.Path, rel), excludes) {
				m.Keep = appendNew(m.Keep, rel)
				continue
			}
			target := path.Join(m.Target, rel)
			held = append(held, fmt.Sprintf("%s (%s)", p.what, target))
			want = append(want, target)
		}
		if len(held) > 0 {
			them := "them"
			if len(held) == 1 {
				them = "it"
			}
			d.probs.addf(base+".volumes", "bind mount %s (at %s) holds %s: exclude %s (exclude: [%s]) or mount a narrower folder",
				m.Source, m.Target, strings.Join(held, ", "), them, strings.Join(want, ", "))
		}
	}
}
