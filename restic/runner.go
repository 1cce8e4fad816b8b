package restic

import (
	"context"
	"io"
	"time"
)

// Mount is a volume or host folder a helper needs besides the repository.
type Mount struct {
	// Type is "volume" or "bind".
	Type     string
	Source   string
	Target   string
	ReadOnly bool
}

// File is a file the runner places in restic's helper before it starts: what restic's
// side needs and must not see in argv or environment (a dump's spec).
type File struct {
	// Path is absolute inside the helper.
	Path string
	Mode int64
	Data []byte
}

// Invocation is one run of restic.
type Invocation struct {
	// Args are the restic command and its flags, e.g. {"backup", "--json", "/backup/db"}.
	// The repository and password never appear here: the runner provides them.
	Args   []string
	Mounts []Mount
	// Stdin, if not nil, is restic's standard input. If reading it fails, restic is
	// stopped before its input is closed (so `backup --stdin` commits nothing).
	Stdin io.Reader
	// Stdout receives restic's standard output (JSON lines with --json).
	Stdout io.Writer
	// Files are placed in the helper before restic starts.
	Files []File
	// Service and Kind say what the run is for (the service, and backup, dump,
	// restore…), so a runner can name what it runs after them.
	Service string
	Kind    string
	// Held asks that restic be stopped as soon as the caller is gone (cancelled, or its
	// process killed): restic then removes its locks. A runner that runs restic in a
	// container runs it as the child of a process that ends it when its held input
	// ends (agent.HeldResticCommand).
	Held bool
	// Before, if set, is a command of the helper's own (an agent command, its spec
	// among Files) that runs first in restic's helper and then runs restic with Args:
	// a check that must pass before restic writes. Its exit codes are none of restic's.
	Before string
}

// WithRetryLock adds restic's --retry-lock to a command's arguments: a command that
// finds the repository locked waits up to d for the lock instead of failing at once.
func WithRetryLock(args []string, d time.Duration) []string {
	if d <= 0 || len(args) == 0 {
		return args
	}
	out := append([]string{args[0], "--retry-lock", d.String()}, args[1:]...)
	return out
}

// Runner runs restic against one repository. A run that exits non-zero returns an
// *ExitError, whose Unwrap gives the sentinel for its exit code.
type Runner interface {
	Run(ctx context.Context, inv Invocation) error
}
