package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
	"github.com/docker-backup/docker-backup/snapshot"
)

// dumpKind is the helper kind of a streamed dump.
const dumpKind = "dump"

// errEmptyDump is a dump command that succeeded but wrote nothing.
var errEmptyDump = errors.New("the dump command wrote nothing")

// backupDump runs the dump command in the service's running container and streams its
// output into `restic backup --stdin`, with no temporary file. It fails closed: when the
// dump exits non-zero, writes nothing or is interrupted, restic is stopped before its
// input ends, so no snapshot is committed. A stored dump is returned as unconfirmed: the
// run confirms it at its end (confirmDumps).
func backupDump(ctx context.Context, env Env, svc composeext.ServicePlan) (sum restic.Summary, unconfirmed string, err error) {
	project, api := env.Plan.Project, env.Run.API
	c, err := engine.RunningContainer(ctx, api, project, svc.Name)
	if err != nil {
		return sum, "", err
	}
	pr, pw := io.Pipe()
	counted := &countingWriter{w: pw}
	checked := newDumpChecker(svc.Dump.Check, counted)
	stderr := &engine.Tail{Max: 4096}
	dumpErr := make(chan error, 1)
	go func() {
		code, err := engine.Exec(ctx, api, c.ID, engine.ExecSpec{
			Cmd: svc.Dump.Command, User: svc.Dump.User, Stdout: checked, Stderr: stderr,
			// Ended in the container when this returns early: on failure, cancel or
			// timeout, and when restic stops reading.
			Kill: true,
		})
		switch {
		case err != nil:
			err = fmt.Errorf("dump command: %w", err)
		case code != 0:
			// The command itself is not shown: interpolation may have put a secret in it.
			err = fmt.Errorf("the dump command exited with code %d%s", code, stderr.Suffix())
		case counted.n.Load() == 0:
			err = fmt.Errorf("%w%s", errEmptyDump, stderr.Suffix())
		case checked.Err() != nil:
			// Exit 0 and bytes are not enough: the format's own end marker must be there.
			err = fmt.Errorf("%w%s", checked.Err(), stderr.Suffix())
		}
		if err != nil {
			pw.CloseWithError(err)
		} else {
			pw.Close()
		}
		dumpErr <- err
	}()
	// Committed unconfirmed: if this process dies mid-dump, the engine ends restic's
	// input and restic commits what it got; only confirmDumps makes it visible.
	tags := append(slices.Clone(svc.Tags), snapshot.RunTag(env.Run.ID), snapshot.Unconfirmed)
	sum, err = restic.Backup(ctx, env.Run.Runner, restic.BackupOptions{
		Service:       svc.Name,
		Kind:          dumpKind,
		Host:          env.Run.Identity.Host(),
		Tags:          tags,
		Stdin:         pr,
		StdinFilename: svc.Dump.Filename,
		Events:        restic.Events{Status: func(s restic.Status) { env.Reporter.Progress(svc.Name, s) }},
	})
	// A failed restic closes the pipe, which ends the dump's stream too.
	pr.CloseWithError(io.ErrClosedPipe)
	derr := <-dumpErr
	switch {
	case derr != nil && (err == nil || errors.Is(err, engine.ErrInputFailed)):
		return sum, "", derr
	case err != nil:
		return sum, "", fmt.Errorf("storing the dump of %q: %w", svc.Name, err)
	}
	return sum, sum.SnapshotID, nil
}

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
