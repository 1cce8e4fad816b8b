// Package agent is docker-backup inside its helper containers (`docker-backup agent
// COMMAND`, hidden from the command line's help): what a helper does beside restic
// runs here, in Go, so the helper image needs nothing but restic and this binary (no
// shell, no busybox).
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is the first argument that runs the agent.
const Command = "agent"

// Exit codes of the agent's commands, besides those of the programs they run.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Streams are the agent's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// commands are the agent's commands by name.
var commands = map[string]func(ctx context.Context, args []string, s Streams) error{
	"hold":      func(_ context.Context, _ []string, s Streams) error { return hold(s.In) },
	"restic":    func(_ context.Context, args []string, _ Streams) error { return execRestic(args, os.Environ()) },
	"preflight": preflight,
	"empty":     empty,
	"swap":      swapCommand,
}

// errUsage is a command called with the wrong arguments.
var errUsage = errors.New("usage")

// Main runs `agent ARGS…` and returns the exit code. Failures are one line on Err.
func Main(args []string, s Streams) int {
	if len(args) == 0 {
		fmt.Fprintln(s.Err, "docker-backup agent: a command is needed (hold, restic, preflight, empty, swap)")
		return ExitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(s.Err, "docker-backup agent: unknown command %q\n", args[0])
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd(ctx, args[1:], s)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(s.Err, "docker-backup agent %s: %v\n", args[0], err)
	var coded *exitError
	switch {
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, errUsage):
		return ExitUsage
	}
	return ExitFailure
}

// hold reads its input until the end: the run's anchor lives as long as the program
// that holds that input open (see engine.HeldSpec).
func hold(in io.Reader) error {
	_, err := io.Copy(io.Discard, in)
	return err
}
