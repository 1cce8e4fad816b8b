package restore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// errEmptyDump is a dump file with nothing in it.
var errEmptyDump = errors.New("the dump in the snapshot is empty")

// restoreDump streams the snapshot's dump file (restic dump) into the service's restore
// command on its standard input, in its running container (or in the --to service's).
// Nothing is written to disk on the way. The restore command starts only once the
// first bytes arrive, so a snapshot that cannot be read never reaches the database.
func restoreDump(ctx context.Context, env Env, job Job, res *Result) error {
	svc := job.Service
	target := svc.Name
	if job.To != "" {
		target = job.To
	}
	res.Target = target
	c, err := engine.RunningContainer(ctx, env.API, env.Plan.Project, target)
	if err != nil {
		return err
	}
	// Commands are not shown: interpolation may have put a secret in them (plan masks them).
	what := "the restore command"
	if svc.Preset != "" {
		what = "the " + svc.Preset + " preset's restore command"
	}
	env.Reporter.Step(svc.Name, fmt.Sprintf("streaming %s of snapshot %s into %s in container %s", job.DumpPath, job.Snapshot.ShortID, what, c.Name))

	pr, pw := io.Pipe()
	dumpErr := make(chan error, 1)
	go func() {
		err := restic.Dump(ctx, env.Runner, job.Snapshot.ID, job.DumpPath, pw, svc.Name)
		pw.CloseWithError(err)
		dumpErr <- err
	}()
	in := bufio.NewReaderSize(pr, 64<<10)
	if _, err := in.Peek(1); err != nil {
		pr.CloseWithError(io.ErrClosedPipe)
		if derr := <-dumpErr; derr != nil {
			return derr
		}
		return errEmptyDump
	}

	// A dump that breaks off mid-stream must stop the exec too, which would otherwise
	// wait for the rest of its input.
	execCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stderr := &engine.Tail{Max: 4096}
	code, execErr := engine.Exec(execCtx, env.API, c.ID, engine.ExecSpec{
		Cmd: svc.Dump.Restore, User: svc.Dump.User, Stderr: stderr, Kill: true,
		Stdin: &cancelOnError{r: in, cancel: cancel},
	})
	// A restore command that ended early leaves restic blocked on the pipe.
	pr.CloseWithError(io.ErrClosedPipe)
	derr := <-dumpErr
	switch {
	case execErr == nil && code != 0:
		return fmt.Errorf("the restore command exited with code %d%s", code, stderr.Suffix())
	case derr != nil:
		return fmt.Errorf("the dump broke off after the restore command had started (it may have applied part of it): %w", derr)
	case execErr != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("restore command: %w", execErr)
	}
	return nil
}

// cancelOnError cancels when reading fails other than by reaching the end.
type cancelOnError struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelOnError) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.cancel()
	}
	return n, err
}
