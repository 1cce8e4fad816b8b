package agent

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

// Where a swap helper has what it swaps: the plugin mounts them there, and the agent
// touches nothing else.
const (
	// RecordsDir is the swap's records volume (its journals).
	RecordsDir = "/records"
	// VolumesDir is the engine's folder of volumes, mounted where live, staging and
	// rollback volumes are all plain folders of it, so that entries move by rename.
	VolumesDir = "/volumes"
)

// swapPath is a path a swap may be given: a volume's data folder under VolumesDir, or a
// mount of its own (/live/N, /staging/N, /rollback/N).
var swapPath = regexp.MustCompile(`^(` + VolumesDir + `/[A-Za-z0-9][A-Za-z0-9_.-]*/_data|/(live|staging|rollback)/[0-9]+)$`)

// confineSpec refuses a spec that names anything but the places a swap helper mounts,
// or a path with a symlink on its way: whatever the spec says, the agent touches only
// the live, staging, rollback and records folders it was given.
func confineSpec(spec SwapSpec) error {
	if spec.Records != RecordsDir {
		return fmt.Errorf("records folder %q: not %s", spec.Records, RecordsDir)
	}
	paths := []string{spec.Records}
	for i, m := range spec.Mounts {
		for _, p := range []string{m.Live, m.Staging, m.Rollback} {
			if !swapPath.MatchString(p) {
				return fmt.Errorf("mount %d: %q is not a folder a swap helper mounts", i, p)
			}
			paths = append(paths, p)
		}
		if m.File && (m.Base == "" || m.Base == "." || m.Base == ".." || strings.Contains(m.Base, "/")) {
			return fmt.Errorf("mount %d: file name %q is not a plain name", i, m.Base)
		}
	}
	for _, p := range paths {
		if err := noSymlinks(p); err != nil {
			return err
		}
	}
	return nil
}

// noSymlinks opens path without following any symlink on its way (openat2 with
// RESOLVE_NO_SYMLINKS): a folder swapped is the folder named, not one a link points to.
func noSymlinks(path string) error {
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return fmt.Errorf("opening %s without following links: %w", path, err)
	}
	return unix.Close(fd)
}
