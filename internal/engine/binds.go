package engine

import (
	"errors"
	"strings"
)

// missingBindSource is how the engine refuses a bind mount (Mounts API) of a host path
// that does not exist: `invalid mount config for type "bind": bind source path does not
// exist: /srv/backups`.
const missingBindSource = "bind source path does not exist: "

// IsMissingBindSource reports whether err is the engine refusing to create a container
// (a helper that never started) because the host path of a bind mount, source, does not exist on the engine's host.
// The engine checks that itself, so it is how a path of a remote engine's host is found
// missing without reading that host.
func IsMissingBindSource(err error, source string) bool {
	if !errors.Is(err, ErrNotStarted) {
		return false
	}
	msg := err.Error()
	i := strings.Index(msg, missingBindSource)
	if i < 0 {
		return false
	}
	rest, ok := strings.CutPrefix(msg[i+len(missingBindSource):], source)
	return ok && (rest == "" || strings.ContainsRune(":\n ", rune(rest[0])))
}

// IsAnyMissingBindSource reports whether err is the engine's refusal to mount a host
// folder that does not exist, whichever it is and whatever was being created.
func IsAnyMissingBindSource(err error) bool {
	return err != nil && strings.Contains(err.Error(), missingBindSource)
}
