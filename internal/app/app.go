// Package app is docker-backup's application layer: one use case a command (up,
// restore, verify, init, forget, check, prune, snapshots, status, schedule), each a
// method taking a plain options value and telling what happens as events (events.go)
// to a Sink. The command line (package plugin) maps flags to options and renders the
// events; alerts, metrics and the scheduler's state read the same events.
package app

import (
	"io"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// DockerAPI is what the use cases ask of the engine: the real client satisfies it, and
// unit tests give the shared fake engine (internal/engine/enginetest).
type DockerAPI interface {
	engine.API
	engine.VersionAPI
	engine.ImageAPI
}

// Location says where the engine runs as seen from this machine. Host paths the
// helpers mount (a local repository, a service's bind mounts) are paths of the engine's
// host: with a remote engine they are not this machine's.
type Location struct {
	// Remote is true when the engine may run on another machine.
	Remote bool
	// Endpoint is the engine's address with any password masked, for messages.
	Endpoint string
	// Socket is the endpoint's socket when it is a unix:// one (an absolute path of
	// this machine): with an engine on this machine, the dump helpers' default.
	Socket string
}

// App is what every use case needs from the outside world. The command line builds
// one; tests build their own.
type App struct {
	// Docker connects to the engine on first use (and hands the same client after).
	Docker func() (DockerAPI, error)
	// Locate says where that engine runs, without connecting; nil: a local engine.
	Locate func() (Location, error)
	// Environ is the process's environment (read here, never from os).
	Environ []string
	// Version is this program's version; Executable its binary, which the helper image
	// is built with (empty: os.Executable).
	Version    string
	Executable string
	// Mountinfo returns /proc/self/mountinfo, in which the scheduler finds its own
	// container; nil: the real file.
	Mountinfo func() string
	// Notes gets what a command says besides its events: that the helper image is being
	// built, that a repository key was generated.
	Notes io.Writer
}

// locate says where the engine runs.
func (a *App) locate() (Location, error) {
	if a.Locate == nil {
		return Location{}, nil
	}
	return a.Locate()
}

// notes is where notes go: Notes, or nowhere.
func (a *App) notes() io.Writer {
	if a.Notes == nil {
		return io.Discard
	}
	return a.Notes
}

// Getenv returns the value of key in the app's environment.
func (a *App) Getenv(key string) string {
	for i := len(a.Environ) - 1; i >= 0; i-- {
		kv := a.Environ[i]
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:]
		}
	}
	return ""
}

// RunSettings say how a command that begins a run waits for others (--wait,
// --retry-lock).
type RunSettings struct {
	// Wait waits as long as another run of the project takes, instead of DefaultWait.
	Wait bool
	// RetryLock waits up to this long for a repository lock held by someone else.
	RetryLock time.Duration
}
