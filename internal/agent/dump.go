package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// The agent commands of the helpers that have the engine's socket (helper.SocketKinds):
// `agent dump --spec FILE RESTIC-ARGS…` and `agent dump-restore --spec FILE
// RESTIC-ARGS…`. The helper's main process is the agent (under the engine's init); it
// starts restic as its child and execs the spec's command in the service's container
// through the socket, so the dump streams on the engine's host and never crosses the
// client. The plugin sees restic's output (JSON progress) and the agent's one line.
const (
	DumpCommand        = "dump"
	DumpRestoreCommand = "dump-restore"
)

// dumpArgs reads `--spec FILE RESTIC-ARGS…`, the spec and the engine.
func dumpArgs(args []string, env Env) (dump.Spec, []string, engine.API, error) {
	if len(args) < 3 || args[0] != "--spec" {
		return dump.Spec{}, nil, nil, errors.New("usage: --spec FILE RESTIC-ARGS…")
	}
	data, err := env.ReadFile(args[1])
	if err != nil {
		return dump.Spec{}, nil, nil, fmt.Errorf("reading the dump spec: %w", err)
	}
	spec, err := dump.ParseSpec(data)
	if err != nil {
		return dump.Spec{}, nil, nil, err
	}
	api, err := connectChecked(env)
	if err != nil {
		return dump.Spec{}, nil, nil, err
	}
	return spec, args[2:], api, nil
}

// UnheldEnv, set to 1 in a helper's environment, says that nobody holds its input: a
// swarm job's (helper.Runner.OnNode), whose task has none (its stdin reads as empty at
// once). Its dump then ends only when its container is stopped (SIGTERM), which removing
// the job's service does: the run's cleanup, or recovery of a dead run's jobs.
const UnheldEnv = "DOCKER_BACKUP_UNHELD_INPUT"

// heldInput is the helper's input when the plugin holds it, nil when UnheldEnv says
// that nobody does.
func heldInput(env Env) io.Reader {
	if slices.Contains(env.Environ, UnheldEnv+"=1") {
		return nil
	}
	return env.In
}

// untilEndOfInput is ctx, cancelled too when in ends: the helper's input is held
// open by the plugin (engine.HelperSpec.HoldStdin), so its end means that nobody
// waits for the dump any more (the plugin was killed).
func untilEndOfInput(ctx context.Context, in io.Reader) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if in != nil {
		go func() {
			_, _ = io.Copy(io.Discard, in)
			cancel()
		}()
	}
	return ctx, cancel
}

// dumpCommand is `agent dump` or `agent dump-restore`: the spec and restic's arguments
// from args, then stream, until the plugin ends its input (then the stream is ended).
func dumpCommand(stream func(context.Context, engine.API, dump.Spec, []string, Env) error) func(context.Context, []string, Env) error {
	return func(ctx context.Context, args []string, env Env) error {
		spec, resticArgs, api, err := dumpArgs(args, env)
		if err != nil {
			return err
		}
		ctx, cancel := untilEndOfInput(ctx, heldInput(env))
		defer cancel()
		return stream(ctx, api, spec, resticArgs, env)
	}
}

// BackupDump runs the spec's dump command in its container and streams its output
// into restic (resticArgs: backup --stdin-from-command …, to which it adds the relay as
// restic's command), whose output goes to env.Out. restic commits only when the relay
// exits 0, which it does only once this function marked the dump whole: when the dump
// exits non-zero, writes nothing, lacks its format's end, or is interrupted (ctx), the
// dump is ended in its container and restic is stopped, and whatever it read is never
// committed. The dump starts only once restic has taken its (shared) lock and runs the
// relay. The error is a *dump.Failure, an exitStatus of restic's, or errInterrupted.
func BackupDump(ctx context.Context, api engine.API, spec dump.Spec, resticArgs []string, env Env) error {
	if !slices.Contains(resticArgs, stdinFromCommand) {
		// Without it restic would read an input of its own and commit whatever it got.
		return fmt.Errorf("%w: restic must read the dump with %s", errUsage, stdinFromCommand)
	}
	rl, err := newRelay()
	if err != nil {
		return err
	}
	defer rl.remove()
	args := append(append(slices.Clone(resticArgs), "--"), rl.command(env.self())...)
	child, err := env.StartRestic(args, ResticIO{Stdout: env.Out, Stderr: env.Err})
	if err != nil {
		return err
	}
	ended := make(chan struct{})
	go func() { child.Wait(); close(ended) }()
	stream, err := rl.open(ctx, ended)
	if err != nil {
		child.Stop()
		if rc := child.Wait(); errors.Is(err, errResticEnded) && rc != 0 {
			return exitStatus(rc) // restic said why (the repository, a lock…)
		}
		return err
	}
	counted := &countingWriter{w: stream}
	checked := dump.NewChecker(spec.Check, counted)
	stderr := &engine.Tail{Max: 4096}
	code, err := engine.Exec(ctx, api, spec.Container, engine.ExecSpec{
		Cmd: spec.Cmd, User: spec.User, Env: spec.Env, Stdout: checked, Stderr: stderr,
		// Ended in the container when this returns early: on failure, on a signal or
		// the plugin's end, and when restic stops reading.
		Kill: true,
	})
	var failed error
	switch {
	case err != nil && ctx.Err() != nil:
		failed = fmt.Errorf("%w: the dump was ended in its container", errInterrupted)
	case err != nil:
		failed = &dump.Failure{Message: fmt.Sprintf("dump command: %v", err)}
	case code != 0:
		// The command itself is not shown: interpolation may have put a secret in it.
		failed = &dump.Failure{Message: fmt.Sprintf("the dump command exited with code %d%s", code, stderr.Suffix())}
	case counted.n.Load() == 0:
		failed = &dump.Failure{Message: "the dump command wrote nothing" + stderr.Suffix()}
	case checked.Err() != nil:
		// Exit 0 and bytes are not enough: the format's own end marker must be there.
		cerr := checked.Err()
		failed = &dump.Failure{Message: cerr.Error() + stderr.Suffix(), CutOff: errors.Is(cerr, dump.ErrCutOff)}
	}
	if failed == nil {
		failed = rl.markWhole()
	}
	if failed == nil {
		// The dump is whole and marked so: only now does the relay see the end of its
		// stream, exit 0, and restic commit. An interruption meanwhile is restic's to
		// handle (SIGINT: it stops and removes its lock); a snapshot it committed
		// anyway holds the whole dump.
		cerr := stream.Close()
		stopOnCancel := context.AfterFunc(ctx, func() { child.Stop() })
		defer stopOnCancel()
		if rc := child.Wait(); rc != 0 {
			return exitStatus(rc)
		}
		if cerr != nil {
			return fmt.Errorf("ending the dump's stream: %w", cerr)
		}
		return nil
	}
	// restic is stopped first, then the stream ends unmarked: the relay fails either
	// way, and restic commits nothing; the dump is already ended in its container.
	stillRan := child.Stop()
	rc := child.Wait()
	_ = stream.Close()
	if err != nil && ctx.Err() == nil && !stillRan && rc != 0 {
		// restic gave up first (the repository, a lock…) and the dump lost its reader:
		// restic's own error says what happened.
		return exitStatus(rc)
	}
	return failed
}

// stdinFromCommand is restic's flag that makes it run a command and commit what it
// wrote only when it exits 0.
const stdinFromCommand = "--stdin-from-command"

// countingWriter counts the bytes that pass through it.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
