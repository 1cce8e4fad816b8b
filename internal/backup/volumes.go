package backup

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// backupVolumes copies the service's volumes with a helper that mounts them read-only.
// With stop, the service is stopped for the copy and always started again. On a swarm
// stack (place not nil) the helper is a job on the node that holds the volumes, the
// snapshot is tagged with that node, and stop scales the service to 0 and back.
func backupVolumes(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement) (sum restic.Summary, warnings []string, err error) {
	restart := func(context.Context) error { return nil }
	if svc.Stop {
		var stopErr error
		restart, stopErr = stopForCopy(ctx, env, svc, place)
		// Started again whatever happens next, also when ctx is cancelled.
		defer func() {
			if serr := restart(ctx); serr != nil && err == nil {
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
	if err := restart(ctx); err != nil {
		return sum, warnings, err
	}
	return sum, warnings, nil
}

// stopForCopy stops the service for its copy and returns what starts it again (later
// calls do nothing, whatever ctx says); on error that too is to be called. A compose
// service's running containers are stopped (run.Stop). A stack's service is scaled
// to 0 and back (run.ScaleToZero): never its task's container, or swarm would start
// a replacement.
func stopForCopy(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement) (func(context.Context) error, error) {
	if place != nil {
		scaled, err := env.Run.ScaleToZero(ctx, place.ServiceID, place.ServiceName)
		if err != nil {
			err = fmt.Errorf("scaling %s to 0 for the copy: %w", place.ServiceName, err)
		}
		return scaled.ScaleBack, err
	}
	cs, err := engine.ServiceContainers(ctx, env.Run.API, env.Plan.Project, svc.Name)
	if err != nil {
		return func(context.Context) error { return nil }, err
	}
	stopped, err := env.Run.Stop(ctx, svc.Name, cs)
	return stopped.Restart, err
}
