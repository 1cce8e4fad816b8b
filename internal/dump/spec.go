// Package dump is a database dump as it crosses into its helper container: the spec
// the plugin copies in and the agent reads (which command to exec in which container),
// the format check of the stream, and the one line in which the agent reports a dump
// that failed. Both sides import it; it imports nothing of ours.
package dump

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SpecFile is where a dump helper finds its Spec: copied in before the helper starts,
// never in its argv or environment (an interpolated command may hold a secret).
const SpecFile = "/run/docker-backup/dump.json"

// Spec is the command a dump helper execs in a service's container: the dump, whose
// output it feeds into restic, or the restore command, which it feeds from restic.
type Spec struct {
	// Container is the ID of the running container the command runs in.
	Container string   `json:"container"`
	User      string   `json:"user,omitempty"`
	Cmd       []string `json:"cmd"`
	Env       []string `json:"env,omitempty"`
	// Check, for a dump, is its format's end-marker check; nil checks nothing.
	Check *Check `json:"check,omitempty"`
	// ReportNames, for a dump restore, has the helper write the database names the
	// dump named (NameScanner) on its standard output once the restore succeeded, as
	// one Names line: the restore drill checks them.
	ReportNames bool `json:"report_names,omitempty"`
}

// Marshal is the spec as the file's content.
func (s Spec) Marshal() []byte {
	b, _ := json.Marshal(s) // strings, slices of strings and a plain struct always marshal
	return b
}

// ParseSpec reads a spec file's content.
func ParseSpec(data []byte) (Spec, error) {
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return Spec{}, fmt.Errorf("reading the dump spec: %w", err)
	}
	if s.Container == "" || len(s.Cmd) == 0 {
		return Spec{}, fmt.Errorf("reading the dump spec: no container or command")
	}
	return s, nil
}

// Exit codes of a dump helper whose dump failed (restic's own codes pass through
// unchanged; restic never uses these).
const (
	ExitFailed = 65
	ExitCutOff = 66
)

// failurePrefix begins the line in which the agent reports a failed dump on stderr.
const failurePrefix = "docker-backup dump: "

// Failure is a dump (or dump restore) that failed in its helper: the command exited
// non-zero, wrote nothing, was cut off, or the stream broke off. Its message is the
// one the plugin shows, as before the dump moved into the helper.
type Failure struct {
	Message string
	// CutOff is a dump that ended without its format's end (ErrCutOff).
	CutOff bool
}

func (f *Failure) Error() string { return f.Message }

// Is matches ErrCutOff for a dump that was cut off.
func (f *Failure) Is(target error) bool { return f.CutOff && target == ErrCutOff }

// ExitCode is the helper's exit code for the failure.
func (f *Failure) ExitCode() int {
	if f.CutOff {
		return ExitCutOff
	}
	return ExitFailed
}

// Line is the failure as the agent writes it on stderr: one line.
func (f *Failure) Line() string {
	msg := strings.ReplaceAll(strings.TrimSpace(f.Message), "\r", "")
	return failurePrefix + strings.ReplaceAll(msg, "\n", " | ")
}

// ParseFailure returns the failure a dump helper reported with its exit code and
// stderr, or nil when it reported none (restic failed, or it was not a dump helper).
func ParseFailure(code int, stderr string) *Failure {
	if code != ExitFailed && code != ExitCutOff {
		return nil
	}
	lines := strings.Split(stderr, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if msg, ok := strings.CutPrefix(strings.TrimRight(lines[i], "\r"), failurePrefix); ok {
			return &Failure{Message: msg, CutOff: code == ExitCutOff}
		}
	}
	return nil
}
