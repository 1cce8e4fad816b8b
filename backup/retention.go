package backup

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/restic"
	"github.com/docker-backup/docker-backup/snapshot"
)

// KeepPolicy converts a plan's retention to restic's.
func KeepPolicy(r *composeext.Retention) restic.KeepPolicy {
	if r == nil {
		return restic.KeepPolicy{}
	}
	return restic.KeepPolicy{
		Last: r.KeepLast, Hourly: r.KeepHourly, Daily: r.KeepDaily, Weekly: r.KeepWeekly,
		Monthly: r.KeepMonthly, Yearly: r.KeepYearly, Within: r.KeepWithin,
	}
}

// applyRetention forgets old snapshots of the services that were backed up, one after
// the other: forget takes restic's exclusive lock. A failure is a warning on the service.
func applyRetention(ctx context.Context, env Env, results []Result) {
	if env.Run.UnconfirmedLeft() {
		env.Reporter.Warn("retention not applied: unconfirmed snapshots of an interrupted run are still in the repository (the next run forgets them first)")
		return
	}
	for i, svc := range env.Plan.Services {
		r := &results[i]
		keep := KeepPolicy(svc.Retention)
		if r.Status != StatusOK && r.Status != StatusWarning || keep.Empty() {
			continue
		}
		o := restic.ForgetOptions{Filter: snapshot.ServiceFilter(env.Run.Identity, svc.Name), GroupBy: snapshot.GroupBy, Keep: keep}
		if _, err := restic.Forget(ctx, env.Run.Runner, o); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("retention not applied: %v", err))
		}
	}
}
