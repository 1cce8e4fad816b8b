package backup

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// backupVolumes copies the service's volumes with a helper that mounts them read-only.
// With stop, the service's containers are stopped for the copy and always started again.
func backupVolumes(ctx context.Context, env Env, svc composeext.ServicePlan) (sum restic.Summary, warnings []string, err error) {
	project := env.Plan.Project
	if err := runHooks(ctx, env.API, project, svc, "pre", svc.Pre); err != nil {
		return sum, nil, err
	}
	labels := map[string]string{}
	stopped := &engine.Stopped{}
	if svc.Stop {
		cs, err := engine.ServiceContainers(ctx, env.API, project, svc.Name)
		if err != nil {
			return sum, nil, err
		}
		var stopErr error
		stopped, stopErr = engine.StopForWork(ctx, env.API, cs, stopTimeout)
		// Started again whatever happens next, also when ctx is cancelled.
		defer func() {
			if serr := stopped.Restart(context.WithoutCancel(ctx)); serr != nil && err == nil {
				err = serr
			}
		}()
		if stopErr != nil {
			return sum, nil, stopErr
		}
		labels[engine.LabelStopped] = strings.Join(stopped.IDs(), ",")
	}
	mounts, paths := helperMounts(svc, true)
	sum, err = restic.Backup(ctx, env.Runner, restic.BackupOptions{
		Service:  svc.Name,
		Kind:     "backup",
		Host:     project,
		Tags:     svc.Tags,
		Paths:    paths,
		Mounts:   mounts,
		Excludes: svc.Exclude,
		Labels:   labels,
		Events: restic.Events{
			Status: func(s restic.Status) { env.Reporter.Progress(svc.Name, s) },
			Error: func(e restic.ErrorItem) {
				warnings = append(warnings, fmt.Sprintf("%s: %s", e.Item, e.Error.Message))
			},
		},
	})
	if err != nil {
		return sum, warnings, fmt.Errorf("backing up volumes of %q: %w", svc.Name, err)
	}
	// Start before post hooks: they run in the service container.
	if err := stopped.Restart(ctx); err != nil {
		return sum, warnings, err
	}
	return sum, warnings, runHooks(ctx, env.API, project, svc, "post", svc.Post)
}
