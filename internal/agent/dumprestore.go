package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// RestoreDump streams restic's output (resticArgs: dump SNAPSHOT /FILE) into the spec's
// restore command on its standard input, in its container. The command starts only
// once the first bytes arrive, so a snapshot that cannot be read never reaches the
// database; a dump that breaks off, or an interruption (ctx), ends the command in its
// container before its input is closed, so a cut-off stream is never applied as a
// whole one; a command that ends early stops restic. The error is a *dump.Failure, an
// exitStatus of restic's (it failed before the first byte), or errInterrupted.
func RestoreDump(ctx context.Context, api engine.API, spec dump.Spec, resticArgs []string, env Env) error {
	resticErr := &engine.Tail{Max: 8 << 10}
	child, err := env.StartRestic(resticArgs, ResticIO{Stderr: io.MultiWriter(env.Err, resticErr), PipeOut: true})
	if err != nil {
		return err
	}
	// Ended by a signal or the plugin's end while it runs.
	stopOnCancel := context.AfterFunc(ctx, func() { child.Stop() })
	defer stopOnCancel()

	in := bufio.NewReaderSize(child.Stdout, 64<<10)
	if _, err := in.Peek(1); err != nil {
		rc := child.Wait()
		switch {
		case ctx.Err() != nil:
			return errInterrupted
		case rc != 0:
			return exitStatus(rc)
		}
		return &dump.Failure{Message: "the dump in the snapshot is empty"}
	}

	// A dump that breaks off mid-stream must stop the exec too, which would otherwise
	// wait for the rest of its input.
	execCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	src := &resticOutput{r: in, wait: child.Wait, cancel: cancel}
	names := dump.NewNameScanner(io.Discard)
	var stdin io.Reader = src
	if spec.ReportNames {
		stdin = io.TeeReader(src, names)
	}
	stderr := &engine.Tail{Max: 4096}
	code, execErr := engine.Exec(execCtx, api, spec.Container, engine.ExecSpec{
		Cmd: spec.Cmd, User: spec.User, Env: spec.Env, Stderr: stderr, Kill: true, Stdin: stdin,
	})
	// A restore command that ended early leaves restic blocked on its output.
	stoppedEarly := child.Stop()
	rc := child.Wait()
	switch {
	case execErr == nil && code != 0:
		return &dump.Failure{Message: fmt.Sprintf("the restore command exited with code %d%s", code, stderr.Suffix())}
	case ctx.Err() != nil:
		return fmt.Errorf("%w: the restore command was ended in its container", errInterrupted)
	case src.failed:
		return &dump.Failure{Message: fmt.Sprintf("the dump broke off after the restore command had started (it may have applied part of it): %v",
			restic.ErrorForExit(rc, resticErr.String()))}
	case execErr != nil:
		return &dump.Failure{Message: fmt.Sprintf("restore command: %v", execErr)}
	case stoppedEarly && !src.ended:
		return &dump.Failure{Message: "the restore command exited before it had read the whole dump"}
	}
	if spec.ReportNames {
		// Never nil: a dump that names no database still reports, as [].
		if _, err := env.Out.Write(dump.Names{Databases: append([]string{}, names.Names()...)}.Marshal()); err != nil {
			return fmt.Errorf("reporting the dump's database names: %w", err)
		}
	}
	return nil
}

// resticOutput is restic's output as the restore command's input: at its end, it
// waits for restic, and a restic that failed makes it fail (not end), cancelling the
// exec first, so the command is ended before its input closes.
type resticOutput struct {
	r      io.Reader
	wait   func() int
	cancel context.CancelFunc
	// ended is a whole dump read to its end; failed a dump that broke off.
	ended, failed bool
}

// errBrokeOff is the input of a restore command whose dump broke off.
var errBrokeOff = errors.New("the dump broke off")

func (o *resticOutput) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	switch {
	case err == io.EOF && o.wait() == 0:
		o.ended = true
	case err != nil:
		o.failed = true
		o.cancel()
		return n, errBrokeOff
	}
	return n, err
}
