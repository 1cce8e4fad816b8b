// Package failure holds docker-backup's one error type for a sentinel error with a
// message of its own: the package that owns the sentinel (restore.ErrSnapshot,
// verify.ErrInput, run.ErrBusy…) says what went wrong in words of the case, and its
// callers still tell the kind apart with errors.Is.
package failure

import "fmt"

// Error is an error of a kind, a sentinel, with its own message: errors.Is(err, Kind)
// is true and Error() is the message alone, without the sentinel's text.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is makes errors.Is(err, e.Kind) true.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Newf returns an error of kind whose message is formatted as fmt.Sprintf does (%w is
// not for here: the error unwraps to nothing but its kind).
func Newf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
