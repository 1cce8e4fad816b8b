package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// ExecSpec is a command to run in a running container.
type ExecSpec struct {
	Cmd  []string
	User string
	Env  []string
	// Stdin, if not nil, is streamed to the command's standard input, then closed.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout io.Writer
	Stderr io.Writer
	// Kill runs the command so that it can be ended (see KillWrapper): when Exec returns
	// before the command has exited (ctx done, or Stdout failing), the command and its
	// descendants are ended. Without sh in the container the command runs as is.
	Kill bool
	// WaitOnCancel, for a command that is not Kill, is how long Exec waits, when ctx is
	// done, for the command to exit after its stream is closed (the engine then sends
	// it SIGTERM, which restic takes as an interrupt and removes its lock).
	WaitOnCancel time.Duration
}

// execPollInterval is how often Exec asks the engine whether a finished stream's
// process has exited; the exit code is known only after that.
const execPollInterval = 20 * time.Millisecond

// Exec runs spec in the container and returns the command's exit code once its
// output has been drained. Output is streamed, never held whole in memory.
func Exec(ctx context.Context, api API, containerID string, spec ExecSpec) (code int, err error) {
	cmd, stderr := spec.Cmd, orDiscard(spec.Stderr)
	var pids *pidReader
	if spec.Kill && hasShell(ctx, api, containerID, spec.User) {
		cmd = killable(cmd)
		pids = &pidReader{w: stderr, known: make(chan struct{})}
		stderr = pids
	}
	created, err := api.ExecCreate(ctx, containerID, client.ExecCreateOptions{
		User:         spec.User,
		Env:          spec.Env,
		Cmd:          cmd,
		AttachStdin:  spec.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return -1, fmt.Errorf("creating exec: %w", err)
	}
	// The engine sends the exec's process SIGTERM when its attach connection goes: for a
	// killable command that would end its sh alone, leaving the children it started
	// orphaned where no kill finds them. So the connection does not follow ctx; it is
	// closed once the command is ended (interrupt, below).
	attachCtx := ctx
	if pids != nil {
		attachCtx = context.WithoutCancel(ctx)
	}
	att, err := api.ExecAttach(attachCtx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return -1, fmt.Errorf("starting exec: %w", err)
	}
	defer att.Close()
	if pids == nil && spec.WaitOnCancel > 0 {
		defer func() {
			if ctx.Err() != nil {
				att.Close()
				wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.WaitOnCancel)
				defer cancel()
				_, _ = waitExec(wctx, api, created.ID)
			}
		}()
	}
	if pids != nil {
		defer func() {
			if pid := int(pids.pid.Load()); err != nil && pid > 0 {
				if kerr := endUnfinished(ctx, api, containerID, created.ID, spec.User, pid); kerr != nil {
					err = errors.Join(err, kerr)
				}
			}
		}()
	}
	// Closing the connection is the only way to interrupt a stream that is blocked. It
	// also ends the command's input, which a command would take for the end of a whole
	// input: a killable command is ended first, so a cut-off input is never applied.
	interrupt := att.Close
	if pids != nil {
		interrupt = func() {
			pids.end(ctx, api, containerID, created.ID, spec.User)
			att.Close()
		}
	}
	stop := context.AfterFunc(ctx, interrupt)
	defer stop()

	var stdinErr <-chan error
	if spec.Stdin != nil {
		stdinErr = feedInput(ctx, att, spec.Stdin, pids)
	}
	stdout := orDiscard(spec.Stdout)
	if _, err := stdcopy.StdCopy(stdout, stderr, att.Reader); err != nil {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, fmt.Errorf("reading output: %w", err)
	}
	if pids != nil && ctx.Err() != nil {
		// Ended by interrupt: its exit code is ours, not the command's.
		return -1, ctx.Err()
	}
	if err := inputError(ctx, stdinErr); err != nil {
		return -1, err
	}
	return waitExec(ctx, api, created.ID)
}

// end ends a killable command that has not finished, once its PID is known: the PID
// line may still be on its way (the command runs, so it was written), and closing the
// stream first would lose it, and with it the kill.
func (p *pidReader) end(ctx context.Context, api API, containerID, execID, user string) {
	select {
	case <-p.known:
	case <-time.After(pidWait):
	}
	if pid := int(p.pid.Load()); pid > 0 {
		_ = endUnfinished(ctx, api, containerID, execID, user, pid)
	}
}

// feedInput streams in to the exec's input in the background, then closes the input;
// the channel gets how that ended. A killable command (pids set) gets no input before
// its PID is known: until then it could not be ended before it read the end of its
// input.
func feedInput(ctx context.Context, att client.ExecAttachResult, in io.Reader, pids *pidReader) <-chan error {
	done := make(chan error, 1)
	go func() {
		if pids != nil {
			select {
			case <-pids.known:
			case <-ctx.Done():
				done <- ctx.Err()
				return
			}
		}
		_, err := io.Copy(att.Conn, in)
		if err == nil {
			err = att.CloseWrite()
		}
		done <- err
	}()
	return done
}

// inputError is how feeding the input went wrong, once the output is drained: nil when
// there was no input, when it went well or is still going (the command finished
// without reading all of it: its exit code says how it went), or when the command
// ended it (a closed pipe) or ctx did.
func inputError(ctx context.Context, fed <-chan error) error {
	if fed == nil {
		return nil
	}
	select {
	case err := <-fed:
		if err != nil && ctx.Err() == nil && !errors.Is(err, io.ErrClosedPipe) {
			return fmt.Errorf("writing input: %w", err)
		}
	default:
	}
	return nil
}

// waitExec polls until the exec's process has exited and returns its exit code.
func waitExec(ctx context.Context, api API, execID string) (int, error) {
	t := time.NewTicker(execPollInterval)
	defer t.Stop()
	for {
		res, err := api.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return -1, fmt.Errorf("inspecting exec: %w", err)
		}
		if !res.Running {
			return res.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-t.C:
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
