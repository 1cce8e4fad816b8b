// Package restic drives the restic binary in helper containers: the Runner seam, the
// helper-container runner, restic's JSON messages, and its exit codes as errors.
package restic

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for restic's documented exit codes.
var (
	// ErrFailed is any failure without a more precise code.
	ErrFailed = errors.New("restic failed")
	// ErrIncomplete means some source data could not be read; the snapshot was made (exit 3).
	ErrIncomplete = errors.New("some files could not be read")
	// ErrRepoNotFound means the repository does not exist (exit 10).
	ErrRepoNotFound = errors.New("repository does not exist")
	// ErrLocked means the repository is locked by another process (exit 11).
	ErrLocked = errors.New("repository is locked")
	// ErrWrongPassword means the password does not open the repository (exit 12).
	ErrWrongPassword = errors.New("wrong password or no key found")
	// ErrInterrupted means restic was interrupted (exit 130).
	ErrInterrupted = errors.New("interrupted")
)

// ExitError is a restic run that exited non-zero.
type ExitError struct {
	Code    int
	Message string // restic's own words: the exit_error message or the last stderr lines
}

func (e *ExitError) Error() string {
	msg, kind := strings.TrimPrefix(strings.TrimSpace(e.Message), "Fatal: "), e.Unwrap()
	switch {
	case msg == "":
		return fmt.Sprintf("%s (exit code %d)", kind, e.Code)
	case kind == ErrFailed || strings.Contains(msg, kind.Error()):
		return msg
	default:
		return fmt.Sprintf("%s: %s", kind, msg)
	}
}

// Unwrap gives the sentinel for the exit code, so errors.Is matches it.
func (e *ExitError) Unwrap() error {
	switch e.Code {
	case 3:
		return ErrIncomplete
	case 10:
		return ErrRepoNotFound
	case 11:
		return ErrLocked
	case 12:
		return ErrWrongPassword
	case 130:
		return ErrInterrupted
	default:
		return ErrFailed
	}
}

// exitError is the error for restic's exit code: nil for 0.
func exitError(code int, message string) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code, Message: message}
}
