package plugin

import (
	"context"
	"errors"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/failure"
	"github.com/docker-backup/docker-backup/internal/restore"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // a run failed (for up: at least one service failed)
	ExitUsage       = 2   // usage or configuration error; nothing was run
	ExitInterrupted = 130 // interrupted by Ctrl-C, SIGTERM or the docker CLI
)

// usageErrorf returns an error in how the command was called: it exits with ExitUsage.
func usageErrorf(format string, args ...any) error {
	return failure.Newf(app.ErrUsage, format, args...)
}

// exitCode maps an error from a command onto the documented exit codes.
func exitCode(ctx context.Context, err error) int {
	var coded *exitCodeError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return ExitInterrupted
	case errors.Is(err, app.ErrUsage), errors.Is(err, composeext.ErrInvalid), errors.Is(err, restore.ErrRefused):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// exitCodeError lets a command choose its exit code after printing its own report
// (up's summary table, plan --strict).
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }
