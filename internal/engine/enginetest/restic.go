package enginetest

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Restic plays restic in helper containers: as a Program it records each run (argv,
// the helper's config, mounts, environment and files, what it read on its input) and
// answers with what a handler for the command says: JSON lines on stdout, stderr and
// an exit code. Without a handler, snapshots prints [] and other commands print
// nothing and exit 0.
//
// Like restic, it reads its repository and password from the files that
// RESTIC_REPOSITORY_FILE and RESTIC_PASSWORD_FILE name, and fails when they are missing.
type Restic struct {
	mu       sync.Mutex
	handlers map[string]func(Call) Reply
	early    map[string]Reply
	calls    []Call
}

// Call is one run of restic.
type Call struct {
	// Args are restic's arguments: the helper's command, e.g. snapshots --json.
	Args []string
	// Helper is the container restic ran in, when it started.
	Helper Container
	// Stdin is what restic read on its input (with --stdin-from-command, its command's
	// output); StdinErr how the input ended: nil when it ended cleanly (restic backup
	// --stdin then commits; with --stdin-from-command, its command exited 0).
	// ReadStdin is false when the helper had no input, or restic failed early (Early).
	ReadStdin bool
	Stdin     string
	StdinErr  error
}

// Command is restic's command: snapshots, backup, tag…
func (c Call) Command() string {
	if len(c.Args) == 0 {
		return ""
	}
	return c.Args[0]
}

// String is the argv as one line.
func (c Call) String() string { return strings.Join(c.Args, " ") }

// Env returns the value of an environment variable of the helper.
func (c Call) Env(key string) string {
	for _, kv := range c.Helper.Config.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// Reply is what a restic run prints and how it exits.
type Reply struct {
	Stdout string
	Stderr string
	Code   int
}

// NewRestic returns a Restic with no handlers.
func NewRestic() *Restic {
	return &Restic{handlers: map[string]func(Call) Reply{}, early: map[string]Reply{}}
}

// Early sets an answer that a command gives before it reads its input, as restic fails
// on a lock or the repository: its input is not read (a --stdin-from-command command
// never runs).
func (r *Restic) Early(command string, reply Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.early[command] = reply
}

// On sets what a command answers; fn sees the run (its stdin already read).
func (r *Restic) On(command string, fn func(Call) Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[command] = fn
}

// Reply sets a fixed answer for a command.
func (r *Restic) Reply(command string, reply Reply) {
	r.On(command, func(Call) Reply { return reply })
}

// Calls returns the runs so far, in the order they began.
func (r *Restic) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Commands returns the argv of each run so far, one line each.
func (r *Restic) Commands() []string {
	var out []string
	for _, c := range r.Calls() {
		out = append(out, c.String())
	}
	return out
}

// Find returns the runs of a command.
func (r *Restic) Find(command string) []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.Command() == command {
			out = append(out, c)
		}
	}
	return out
}

// Program runs restic in a helper; use it as, or from, Engine.Program.
func (r *Restic) Program(p *Process) int {
	call := Call{Args: slices.Clone(p.Config.Cmd), Helper: p.Container}
	r.mu.Lock()
	early, failsEarly := r.early[call.Command()]
	r.mu.Unlock()
	if p.Config.OpenStdin && !failsEarly {
		b, err := io.ReadAll(p.Stdin)
		call.ReadStdin, call.Stdin, call.StdinErr = true, string(b), err
	}
	r.mu.Lock()
	r.calls = append(r.calls, call)
	handler := r.handlers[call.Command()]
	r.mu.Unlock()

	for _, v := range []string{"RESTIC_REPOSITORY_FILE", "RESTIC_PASSWORD_FILE"} {
		if f := call.Env(v); f != "" {
			if _, ok := p.Files[f]; !ok {
				fmt.Fprintf(p.Stderr, "Fatal: %s: open %s: no such file or directory\n", v, f)
				return 1
			}
		}
	}
	reply := Reply{}
	switch {
	case failsEarly:
		reply = early
	case handler != nil:
		reply = handler(call)
	case call.Command() == "snapshots":
		reply.Stdout = "[]"
	}
	_, _ = io.WriteString(p.Stdout, reply.Stdout)
	_, _ = io.WriteString(p.Stderr, reply.Stderr)
	return reply.Code
}
