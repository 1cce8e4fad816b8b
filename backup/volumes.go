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
	restart := func(context.Context) error { return nil }
	if svc.Stop {
		cs, err := engine.ServiceContainers(ctx, env.API, project, svc.Name)
		if err != nil {
			return sum, nil, err
		}
		stopped, stopErr := engine.StopContainers(ctx, env.API, cs, stopTimeout)
		restart = func(ctx context.Context) error {
			ids := stopped
			stopped = nil
			return engine.StartContainers(ctx, env.API, ids)
		}
		// Started again whatever happens next, also when ctx is cancelled.
		defer func() {
			if serr := restart(context.WithoutCancel(ctx)); serr != nil && err == nil {
				err = serr
			}
		}()
		if stopErr != nil {
			return sum, nil, stopErr
		}
		labels[engine.LabelStopped] = strings.Join(stopped, ",")
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
	if err := restart(ctx); err != nil {
		return sum, warnings, err
	}
	return sum, warnings, runHooks(ctx, env.API, project, svc, "post", svc.Post)
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
