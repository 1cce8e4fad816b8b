package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/retention"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// KeepPolicy converts a plan's retention to restic's.
func KeepPolicy(r *retention.Policy) restic.KeepPolicy { return r.Keep() }

// applyRetention forgets old snapshots of the services that were backed up, one after
// the other: forget takes restic's exclusive lock. It never fails a backup: a forget
// that fails (a lock someone else holds: a reader, another machine's backup) is a
// warning on the service and on the run, and the next run applies the policy again.
// Once the lock is found held, the other services are not tried: their forget would
// meet the same holder.
func applyRetention(ctx context.Context, env Env, results []report.Result) {
	if env.Run.UnconfirmedLeft() {
		env.Reporter.Warn("retention not applied: unconfirmed snapshots of an interrupted run are still in the repository (the next run forgets them first)")
		return
	}
	var locked error
	for i, svc := range env.Plan.Services {
		r := &results[i]
		keep := KeepPolicy(svc.Retention)
		if r.Status != StatusOK && r.Status != StatusWarning || keep.Empty() || env.history.holds(svc.Name) {
			continue
		}
		err := locked
		if err == nil {
			o := restic.ForgetOptions{Filter: snapshot.ServiceFilter(env.Run.Identity, svc.Name), GroupBy: snapshot.GroupBy, Keep: keep}
			_, err = restic.Forget(ctx, env.Run.Runner, o)
		}
		if err == nil || ctx.Err() != nil {
			continue
		}
		if errors.Is(err, restic.ErrLocked) {
			locked = err
		}
		msg := retentionWarning(svc.Name, err)
		r.Warnings = append(r.Warnings, msg)
		env.Reporter.Warn(msg)
	}
}

// retentionWarning is the one line for a service's retention that could not be applied:
// with a lock, restic's holder (host, PID, age); the snapshots stay until a later run.
func retentionWarning(service string, err error) string {
	return fmt.Sprintf("retention of %s not applied, the next run applies it: %v", service, err)
}
