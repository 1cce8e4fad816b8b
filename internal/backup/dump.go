package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/snapshot"
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
//
// On a swarm stack (place not nil) the helper is a job on the node of the service's
// task, with that node's socket (helper.Runner.OnNode), and execs in the task's
// container there: the dump goes from the node to the repository, never through the
// manager or the client, with the same guarantees.
func backupDump(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement) (restic.Summary, error) {
	var container string
	var runner restic.Runner = env.Run.Runner
	if place != nil {
		if place.Container == "" {
			return restic.Summary{}, fmt.Errorf("service %q: its task on node %s has no container yet", svc.Name, place.Node)
		}
		container, runner = place.Container, place.Runner
	} else {
		c, err := engine.RunningContainer(ctx, env.Run.API, env.Plan.Project, svc.Name)
		if err != nil {
			return restic.Summary{}, err
		}
		container = c.ID
	}
	// The spec goes in as a file: the command may hold an interpolated secret.
	spec := dump.Spec{Container: container, User: svc.Dump.User, Cmd: svc.Dump.Command, Check: dumpCheck(svc.Dump.Check)}
	o := ResticOptions(svc, env.Run.Identity.Host(), env.Run.ID)
	if place != nil {
		o.Tags = append(o.Tags, snapshot.NodeTag(place.Node))
	}
	o.Files = []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}}
	o.Events = restic.Events{Status: func(s restic.Status) { env.Reporter.Progress(svc.Name, s) }}
	sum, err := restic.Backup(ctx, runner, o)
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
