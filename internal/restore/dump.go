package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// restoreDump streams the snapshot's dump file (restic dump) into the service's restore
// command on its standard input, in its running container (or in the --to service's),
// on the engine's host: one helper (helper.KindDumpRestore, with the engine's socket)
// runs restic dump and execs the restore command, so the dump never crosses the
// client. Nothing is written to disk on the way. The restore command starts only once
// the first bytes arrive, so a snapshot that cannot be read never reaches the
// database; a stream that breaks off ends the command before its input closes (see
// agent.RestoreDump).
func restoreDump(ctx context.Context, env Env, job Job, res *report.Result) error {
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
	env.Reporter.Step(svc.Name, fmt.Sprintf("streaming %s of snapshot %s into %s in container %s", job.DumpPath, job.Snapshot.ShortID, restoreCommand(svc), c.Name))
	return streamDump(ctx, env.Runner, job, c.ID)
}

// restoreDumpOnNode is restoreDump on a swarm stack: the job that streams the dump
// into the restore command runs on the node of the service's task (p), with that
// node's own socket, and execs in the task's container there (p.Container). Nothing
// is scaled: the database takes the dump while it runs, as on one engine.
func restoreDumpOnNode(ctx context.Context, env Env, job Job, p Placement, res *report.Result) error {
	svc := job.Service
	res.Target = svc.Name
	env.Reporter.Step(svc.Name, fmt.Sprintf("on node %s: streaming %s of snapshot %s into %s in the task of %s", p.NodeName, job.DumpPath, job.Snapshot.ShortID, restoreCommand(svc), p.ServiceName))
	return streamDump(ctx, p.Runner, job, p.Container)
}

// restoreCommand names a dump service's restore command for a step; commands are not
// shown: interpolation may have put a secret in them (plan masks them).
func restoreCommand(svc composeext.ServicePlan) string {
	if svc.Preset != "" {
		return "the " + svc.Preset + " preset's restore command"
	}
	return "the restore command"
}

// streamDump runs the dump-restore helper through runner: restic dump of the job's
// snapshot streamed into the restore command, exec'd in container.
func streamDump(ctx context.Context, runner restic.Runner, job Job, container string) error {
	svc := job.Service
	// The spec goes in as a file: the command may hold an interpolated secret.
	spec := dump.Spec{Container: container, User: svc.Dump.User, Cmd: svc.Dump.Restore}
	err := restic.Dump(ctx, runner, restic.DumpOptions{
		Snapshot: job.Snapshot.ID, Path: job.DumpPath, Service: svc.Name, Kind: helper.KindDumpRestore,
		Files: []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}},
	})
	var failed *dump.Failure
	switch {
	case errors.As(err, &failed):
		return failed
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}
