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
	kind    error
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Message)
	switch {
	case msg == "":
		return fmt.Sprintf("%s (exit code %d)", e.kind, e.Code)
	case e.kind == ErrFailed:
		return msg
	default:
		return fmt.Sprintf("%s: %s", e.kind, msg)
	}
}

// Unwrap lets errors.Is match the sentinel for the exit code.
func (e *ExitError) Unwrap() error { return e.kind }

// exitError maps restic's exit code onto its sentinel; 0 gives nil.
func exitError(code int, message string) error {
	var kind error
	switch code {
	case 0:
		return nil
	case 3:
		kind = ErrIncomplete
	case 10:
		kind = ErrRepoNotFound
	case 11:
		kind = ErrLocked
	case 12:
		kind = ErrWrongPassword
	case 130:
		kind = ErrInterrupted
	default:
		kind = ErrFailed
	}
	return &ExitError{Code: code, Message: message, kind: kind}
}
