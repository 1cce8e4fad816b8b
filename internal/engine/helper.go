package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// HelperSpec describes a short-lived helper container.
type HelperSpec struct {
	Name  string
	Image string
	// Entrypoint, if set, replaces the image's (the agent, with the command to run).
	Entrypoint []string
	Cmd        []string
	Env        []string
	// User, if set, replaces the image's user.
	User   string
	Mounts []mount.Mount
	// Binds are "host-path:container-path" bind mounts in the engine's older form, which
	// creates a host path that does not exist (as `docker run -v` does; Mounts refuse it).
	// Only a folder that may be created goes here.
	Binds       []string
	Labels      map[string]string
	Hostname    string
	NetworkMode string
	// Init runs the engine's init as PID 1 with the command under it, so the command's
	// PID is never 1 (restic's stale-lock test needs that, see the run package).
	Init bool
	// Files are copied into the container before it starts: secrets reach the helper
	// this way, never through its argv or environment.
	Files []File
	// Stdin, if not nil, is streamed to the helper's standard input. When reading it
	// fails, the helper is killed before its input is closed, so a program that acts on
	// end of input (restic backup --stdin commits a snapshot) never sees one.
	Stdin io.Reader
	// HoldStdin, without Stdin, attaches the helper's standard input and never writes
	// to it: the engine ends it (end of input) when this process goes, so a helper that
	// works on its own (a dump on the engine's host) can tell that nobody waits for it.
	HoldStdin bool
	// Stdout and Stderr receive the helper's output; nil discards it.
	Stdout io.Writer
	Stderr io.Writer
}

// ErrInputFailed wraps the error of a HelperSpec.Stdin that failed.
var ErrInputFailed = errors.New("input stream failed")

// ErrNotStarted matches the error of a helper whose command never ran: creating,
// preparing or starting its container failed. Whatever it was to change is unchanged.
var ErrNotStarted = errors.New("helper not started")

// notStarted is an error of RunHelper before the helper's command ran.
type notStarted struct{ err error }

func (e notStarted) Error() string        { return e.err.Error() }
func (e notStarted) Unwrap() error        { return e.err }
func (e notStarted) Is(target error) bool { return target == ErrNotStarted }

// stopGrace is how long an interrupted helper has to exit after SIGINT before it is killed.
const stopGrace = 10 * time.Second

// RunHelper creates the helper container, starts it, streams its input and output, waits
// for it to exit and removes it, also on failure or cancellation. It returns the helper's
// exit code.
func RunHelper(ctx context.Context, api API, spec HelperSpec) (int, error) {
	cfg := &container.Config{
		Image:        spec.Image,
		Entrypoint:   spec.Entrypoint,
		Cmd:          spec.Cmd,
		Env:          spec.Env,
		User:         spec.User,
		Labels:       spec.Labels,
		Hostname:     spec.Hostname,
		AttachStdout: true,
		AttachStderr: true,
	}
	attachIn := spec.Stdin != nil || spec.HoldStdin
	if attachIn {
		cfg.AttachStdin, cfg.OpenStdin, cfg.StdinOnce = true, true, true
	}
	created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       spec.Name,
		Config:     cfg,
		HostConfig: &container.HostConfig{Mounts: spec.Mounts, Binds: spec.Binds, NetworkMode: container.NetworkMode(spec.NetworkMode), Init: &spec.Init},
	})
	if err != nil {
		return -1, notStarted{fmt.Errorf("creating helper container from image %s: %w", spec.Image, err)}
	}
	id := created.ID
	cleanup := context.WithoutCancel(ctx)
	defer func() { _, _ = api.ContainerRemove(cleanup, id, client.ContainerRemoveOptions{Force: true}) }()

	if len(spec.Files) > 0 {
		if err := CopyFiles(ctx, api, id, spec.Files); err != nil {
			return -1, notStarted{err}
		}
	}
	att, err := api.ContainerAttach(ctx, id, client.ContainerAttachOptions{
		Stream: true, Stdin: attachIn, Stdout: true, Stderr: true,
	})
	if err != nil {
		return -1, notStarted{fmt.Errorf("attaching to helper container: %w", err)}
	}
	defer att.Close()
	waited := api.ContainerWait(cleanup, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return -1, notStarted{fmt.Errorf("starting helper container: %w", err)}
	}

	// The output is read to its end whatever becomes of its reader: the engine finishes
	// a container (and answers a kill) only once its output is delivered.
	stdout := &draining{w: orDiscard(spec.Stdout), failed: make(chan struct{})}
	outputDone := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, orDiscard(spec.Stderr), att.Reader)
		outputDone <- err
	}()
	inputErr := make(chan error, 1)
	if spec.Stdin != nil {
		go func() { inputErr <- streamInput(cleanup, api, id, att, spec.Stdin) }()
	} else {
		inputErr <- nil
	}

	code := -1
	failed := stdout.failed
	for exited := false; !exited; {
		select {
		case res := <-waited.Result:
			code, exited = int(res.StatusCode), true
		case err := <-waited.Error:
			return -1, fmt.Errorf("waiting for helper container: %w", err)
		case <-ctx.Done():
			code, exited = interrupt(cleanup, api, id, waited), true
		case <-failed:
			// Nobody takes the helper's output any more (its reader gave up): the
			// helper would run, or block, for nothing.
			failed = nil
			_, _ = api.ContainerKill(cleanup, id, client.ContainerKillOptions{Signal: "SIGKILL"})
		}
	}
	// The helper has exited: input still being written can no longer arrive. Without a
	// deadline such a write, and with it the engine's end of the stream, can hang.
	_ = att.Conn.SetWriteDeadline(time.Now())
	inErr := <-inputErr
	outErr := drainOutput(outputDone, att)
	if stdout.err != nil {
		outErr = stdout.err
	}
	if inErr != nil {
		return code, inErr
	}
	if ctx.Err() != nil {
		return code, ctx.Err()
	}
	if outErr != nil && !errors.Is(outErr, io.EOF) {
		return code, fmt.Errorf("reading helper output: %w", outErr)
	}
	return code, nil
}

// outputGrace is how long the engine gets to end a finished helper's output stream.
const outputGrace = 5 * time.Second

// drainOutput waits for the rest of a finished helper's output, closing the stream if
// the engine does not end it.
func drainOutput(done <-chan error, att client.ContainerAttachResult) error {
	timer := time.NewTimer(outputGrace)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		att.Close()
		return <-done
	}
}

// streamInput copies in to the helper's stdin and closes it at the end. When reading in
// fails, or writing stops half-way while the helper still runs, the helper is killed
// first, so it never sees an end of input (restic backup --stdin would commit). A
// helper that has exited by itself has its exit code say what happened.
func streamInput(ctx context.Context, api API, id string, att client.ContainerAttachResult, in io.Reader) error {
	src := &readErr{r: in}
	_, err := io.Copy(att.Conn, src)
	if c, ok := in.(io.Closer); ok {
		defer c.Close()
	}
	if err == nil {
		if cerr := att.CloseWrite(); cerr != nil {
			return fmt.Errorf("closing helper input: %w", cerr)
		}
		return nil
	}
	_, kerr := api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"})
	switch {
	case src.err != nil:
		return fmt.Errorf("%w: %w", ErrInputFailed, src.err)
	case kerr == nil:
		return fmt.Errorf("%w: writing to the helper: %w", ErrInputFailed, err)
	default:
		return nil
	}
}

// readErr remembers the error of its reader other than the end of input.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// interrupt asks the helper to stop (SIGINT lets restic remove its lock), kills it after a
// grace period, and returns its exit code.
func interrupt(ctx context.Context, api API, id string, waited client.ContainerWaitResult) int {
	_, _ = api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGINT"})
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case res := <-waited.Result:
		return int(res.StatusCode)
	case <-waited.Error:
		return -1
	case <-timer.C:
		_, _ = api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"})
		select {
		case res := <-waited.Result:
			return int(res.StatusCode)
		case <-waited.Error:
			return -1
		}
	}
}

// draining passes output on to w until w fails, then drops the rest, so the stream is
// always read to its end; failed is closed at the first failure, err holds it.
type draining struct {
	w      io.Writer
	err    error
	failed chan struct{}
}

func (d *draining) Write(p []byte) (int, error) {
	if d.err != nil {
		return len(p), nil
	}
	if _, err := d.w.Write(p); err != nil {
		d.err = err
		close(d.failed)
	}
	return len(p), nil
}
