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

	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// Command is the first argument that runs the agent.
const Command = "agent"

// Exit codes of the agent's commands, besides those of the programs they run.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	// ExitInterrupted is a command ended by SIGINT or SIGTERM, or by the end of the
	// plugin that waited for it (restic's code for the same).
	ExitInterrupted = 130
)

// Streams are the agent's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Env is what the agent's commands use of the world: Main gives them the real one,
// tests a fake engine and a restic they play.
type Env struct {
	Streams
	// Environ is the agent's environment.
	Environ []string
	// Connect connects to the engine through the socket a dump helper has mounted.
	Connect func() (engine.API, error)
	// StartRestic starts restic as the agent's child.
	StartRestic Starter
	// ReadFile reads a file of the helper.
	ReadFile func(name string) ([]byte, error)
	// Self is this program's path, which restic runs as a dump's relay
	// (DumpRelayCommand); "docker-backup" when empty.
	Self string
}

func (e Env) self() string {
	if e.Self == "" {
		return "docker-backup"
	}
	return e.Self
}

// EngineSocket is where a dump helper has the engine's API socket mounted.
const EngineSocket = "/var/run/docker.sock"

// commands are the agent's commands by name.
var commands = map[string]func(ctx context.Context, args []string, env Env) error{
	"hold":                 func(_ context.Context, _ []string, env Env) error { return hold(env.In) },
	"restic":               func(_ context.Context, args []string, env Env) error { return execRestic(args, env.Environ) },
	HeldResticCommand:      heldRestic,
	DumpCommand:            dumpCommand(BackupDump),
	DumpRestoreCommand:     dumpCommand(RestoreDump),
	EngineCheckCommand:     runEngineCheck,
	HookCommand:            runHook,
	DumpRelayCommand:       runDumpRelay,
	"preflight":            func(ctx context.Context, args []string, env Env) error { return preflight(ctx, args, env.Streams) },
	PreflightResticCommand: func(_ context.Context, args []string, env Env) error { return preflightRestic(args, env) },
	"empty":                func(ctx context.Context, args []string, env Env) error { return empty(ctx, args, env.Streams) },
	"swap":                 func(ctx context.Context, args []string, env Env) error { return swapCommand(ctx, args, env.Streams) },
	NodeVolumesCommand:     nodeVolumes,
	ServedCopyCommand:      servedCopy(OpenS3From),
}

// errUsage is a command called with the wrong arguments.
var errUsage = errors.New("usage")

// Main runs `agent ARGS…` and returns the exit code. Failures are one line on Err.
func Main(args []string, s Streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, Env{
		Streams: s,
		Environ: os.Environ(),
		Connect: func() (engine.API, error) { return engine.Connect("unix://" + EngineSocket) },
		StartRestic: func(args []string, rio ResticIO) (*Child, error) {
			return startRestic(os.Environ(), args, rio)
		},
		ReadFile: os.ReadFile,
		Self:     self(),
	})
}

// self is this program's path.
func self() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}

// Run runs `agent ARGS…` in env and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Err, "docker-backup agent: a command is needed (hold, restic, dump, dump-restore, dump-relay, engine-check, hook, preflight, preflight-restic, empty, swap, node-volumes, copy-served)")
		return ExitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Err, "docker-backup agent: unknown command %q\n", args[0])
		return ExitUsage
	}
	err := cmd(ctx, args[1:], env)
	var f *dump.Failure
	var status exitStatus
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &f):
		fmt.Fprintln(env.Err, f.Line())
		return f.ExitCode()
	case errors.As(err, &status):
		return int(status)
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(env.Err, "docker-backup agent %s: %v\n", args[0], err)
		return ExitInterrupted
	}
	fmt.Fprintf(env.Err, "docker-backup agent %s: %v\n", args[0], err)
	var coded *exitError
	switch {
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, errUsage):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// exitStatus ends the agent with a code of restic's, having said nothing: restic said
// why on stderr.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("restic exited with code %d", int(e)) }

// errInterrupted is a command ended by a signal or by the end of its input.
var errInterrupted = errors.New("interrupted")

// hold reads its input until the end: the run's anchor lives as long as the program
// that holds that input open (see engine.HeldSpec).
func hold(in io.Reader) error {
	_, err := io.Copy(io.Discard, in)
	return err
}
