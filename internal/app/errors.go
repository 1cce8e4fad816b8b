package app

import (
	"errors"

	"github.com/docker-backup/docker-backup/internal/failure"
)

// ErrUsage marks an error in how a use case was asked for (a missing setting, a
// service that cannot be drilled): the command line exits with its usage code.
var ErrUsage = errors.New("usage error")

// usageErrorf returns an error of ErrUsage with its own text.
func usageErrorf(format string, args ...any) error {
	return failure.Newf(ErrUsage, format, args...)
}
