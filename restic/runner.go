package restic

import (
	"context"
	"io"
)

// Mount is a volume or host folder a helper needs besides the repository.
type Mount struct {
	// Type is "volume" or "bind".
	Type     string
	Source   string
	Target   string
	ReadOnly bool
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
	// Service and Kind label the helper (the service it works for; backup, dump, restore…).
	Service string
	Kind    string
	// Labels are extra labels for the helper.
	Labels map[string]string
}

// Runner runs restic against one repository. A run that exits non-zero returns an
// *ExitError, whose Unwrap gives the sentinel for its exit code.
type Runner interface {
	Run(ctx context.Context, inv Invocation) error
}
