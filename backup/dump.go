package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/dump"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
	"github.com/docker-backup/docker-backup/run"
	"github.com/docker-backup/docker-backup/snapshot"
)

// backupDump stores the output of the dump command in the service's running container
// with no temporary file, on the engine's host: one helper (run.KindDump, with the
// engine's socket) execs the dump and streams it into `restic backup --stdin`, so the
// dump never crosses the client; this process sees restic's JSON progress and, on
// failure, the helper's one line. It fails closed: when the dump exits non-zero,
// writes nothing, lacks its format's end or is interrupted, the helper ends it in the
// container and stops restic before its input ends, so no snapshot is committed (see
// agent.BackupDump). A stored dump is returned as unconfirmed: the run confirms it at
// its end (confirmDumps).
func backupDump(ctx context.Context, env Env, svc composeext.ServicePlan) (sum restic.Summary, unconfirmed string, err error) {
	project, api := env.Plan.Project, env.Run.API
	c, err := engine.RunningContainer(ctx, api, project, svc.Name)
	if err != nil {
		return sum, "", err
	}
	// The spec goes in as a file: the command may hold an interpolated secret.
	spec := dump.Spec{Container: c.ID, User: svc.Dump.User, Cmd: svc.Dump.Command, Check: dumpCheck(svc.Dump.Check)}
	// Committed unconfirmed: only confirmDumps makes it visible, so a snapshot of a run
	// that dies between restic's commit and the confirmation is never used.
	tags := append(slices.Clone(svc.Tags), snapshot.RunTag(env.Run.ID), snapshot.Unconfirmed)
	sum, err = restic.Backup(ctx, env.Run.Runner, restic.BackupOptions{
		Service:       svc.Name,
		Kind:          run.KindDump,
		Host:          env.Run.Identity.Host(),
		Tags:          tags,
		StdinFilename: svc.Dump.Filename,
		StdinInHelper: true,
		Files:         []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}},
		Events:        restic.Events{Status: func(s restic.Status) { env.Reporter.Progress(svc.Name, s) }},
	})
	var failed *dump.Failure
	switch {
	case errors.As(err, &failed):
		return sum, "", failed
	case err != nil:
		return sum, "", fmt.Errorf("storing the dump of %q: %w", svc.Name, err)
	}
	return sum, sum.SnapshotID, nil
}

// dumpCheck is the plan's end-marker check as the helper reads it.
func dumpCheck(c *composeext.DumpCheck) *dump.Check {
	if c == nil {
		return nil
	}
	return &dump.Check{Tool: c.Tool, Head: c.Head, End: c.End, RDB: c.RDB}
}
