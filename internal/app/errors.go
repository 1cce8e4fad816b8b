package app

import (
	"errors"
	"fmt"
)

// ErrUsage marks an error in how a use case was asked for (a missing setting, a
// service that cannot be drilled): the command line exits with its usage code.
var ErrUsage = errors.New("usage error")

// usageError is an error of ErrUsage with its own text.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// usageErrorf returns an error of ErrUsage.
func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}
