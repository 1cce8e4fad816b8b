package agent

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
)

// SpecFile is where a helper finds what its agent command is to do, copied in with the
// helper's files: a command may hold what argv must not show.
const SpecFile = "/run/docker-backup/spec.json"

// readSpec reads the JSON spec named by the command's --spec flag (SpecFile by default)
// into v.
func readSpec(name string, args []string, v any) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("spec", SpecFile, "the command's spec (JSON)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return fmt.Errorf("reading the spec: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading the spec %s: %w", *path, err)
	}
	return nil
}

// exitError is a failure with an exit code of its own, which the caller tells apart.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failWith returns err with the exit code code.
func failWith(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}
