package backup

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// backupVolumes copies the service's volumes with a helper that mounts them read-only.
// With stop, the service's containers are stopped for the copy and always started again.
// On a swarm stack (place not nil) the helper is a job on the node that holds the
// volumes, and the snapshot is tagged with that node.
func backupVolumes(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement) (sum restic.Summary, warnings []string, err error) {
	project, api := env.Plan.Project, env.Run.API
	var stopped *run.Stopped
	if svc.Stop {
		cs, err := engine.ServiceContainers(ctx, api, project, svc.Name)
		if err != nil {
			return sum, nil, err
		}
		var stopErr error
		stopped, stopErr = env.Run.Stop(ctx, svc.Name, cs)
		// Started again whatever happens next, also when ctx is cancelled.
		defer func() {
			if serr := stopped.Restart(ctx); serr != nil && err == nil {
				err = serr
			}
		}()
		if stopErr != nil {
			return sum, nil, stopErr
		}
	}
	o := ResticOptions(svc, env.Run.Identity.Host(), env.Run.ID)
	var runner restic.Runner = env.Run.Runner
	if place != nil {
		runner = place.Runner
		o.Tags = append(o.Tags, snapshot.NodeTag(place.Node))
	}
	o.Events = restic.Events{
		Status: func(s restic.Status) { env.Reporter.Progress(svc.Name, s) },
		Error: func(e restic.ErrorItem) {
			warnings = append(warnings, fmt.Sprintf("%s: %s", e.Item, e.Error.Message))
		},
	}
	sum, err = restic.Backup(ctx, runner, o)
	if err != nil {
		return sum, warnings, fmt.Errorf("backing up volumes of %q: %w", svc.Name, err)
	}
	// Started here, before the post hooks (withHooks): they run in the service container.
	if stopped != nil {
		if err := stopped.Restart(ctx); err != nil {
			return sum, warnings, err
		}
	}
	return sum, warnings, nil
}
