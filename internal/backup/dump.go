package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// backupDump stores the output of the dump command in the service's running container
// with no temporary file, on the engine's host: one helper (helper.KindDump, with the
// engine's socket) execs the dump and streams it into `restic backup
// --stdin-from-command`, so the dump never crosses the client; this process sees
// restic's JSON progress and, on failure, the helper's one line. It fails closed:
// restic commits only when its command, the agent's relay, exits 0, which it does only
// when the dump exited 0, wrote something and had its format's end (see
// agent.BackupDump). So a stored dump is whole, and needs no later step (restic's
// exclusive lock) to count.
func backupDump(ctx context.Context, env Env, svc composeext.ServicePlan) (restic.Summary, error) {
	project, api := env.Plan.Project, env.Run.API
	c, err := engine.RunningContainer(ctx, api, project, svc.Name)
	if err != nil {
		return restic.Summary{}, err
	}
	// The spec goes in as a file: the command may hold an interpolated secret.
	spec := dump.Spec{Container: c.ID, User: svc.Dump.User, Cmd: svc.Dump.Command, Check: dumpCheck(svc.Dump.Check)}
	o := ResticOptions(svc, env.Run.Identity.Host(), env.Run.ID)
	o.Files = []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}}
	o.Events = restic.Events{Status: func(s restic.Status) { env.Reporter.Progress(svc.Name, s) }}
	sum, err := restic.Backup(ctx, env.Run.Runner, o)
	var failed *dump.Failure
	switch {
	case errors.As(err, &failed):
		return sum, failed
	case err != nil:
		return sum, fmt.Errorf("storing the dump of %q: %w", svc.Name, err)
	}
	return sum, nil
}

// dumpCheck is the plan's end-marker check as the helper reads it.
func dumpCheck(c *composeext.DumpCheck) *dump.Check {
	if c == nil {
		return nil
	}
	return &dump.Check{Tool: c.Tool, Head: c.Head, End: c.End, RDB: c.RDB}
}
