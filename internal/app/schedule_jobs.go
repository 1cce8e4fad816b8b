package app

import (
	"context"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// scheduledCheck is restic check on x-backup.check.schedule, with its read_data_subset.
func (sc *scheduler) scheduledCheck(ctx context.Context) report.Run {
	return sc.maintenanceRun(ctx, "check", func(ctx context.Context, plan *composeext.Plan, s *session) error {
		subset := ""
		if plan.Check != nil {
			subset = plan.Check.ReadDataSubset
		}
		return restic.Check(ctx, s.runner, subset, sc.opts.Log)
	})
}

// scheduledPrune is restic prune on x-backup.prune.schedule, in a run of the project
// (no backup or restore of it runs meanwhile).
func (sc *scheduler) scheduledPrune(ctx context.Context) report.Run {
	return sc.maintenanceRun(ctx, "prune", func(ctx context.Context, plan *composeext.Plan, s *session) error {
		r, err := s.begin(ctx, plan, "prune", sc.opts.Run, beginOptions{}, warnTo(sc.opts.Log))
		if err != nil {
			return err
		}
		defer r.End(ctx)
		return restic.Prune(ctx, r.Runner, sc.opts.Log)
	})
}

// scheduledVerify is the restore drill of every service on x-backup.verify.schedule,
// with verify's defaults; each service's result is a line of the log, and a failed
// drill is alerted (no healthcheck ping: that one says whether backups happen).
func (sc *scheduler) scheduledVerify(ctx context.Context) report.Run {
	started := time.Now()
	plan, err := LoadPlan(ctx, sc.opts.Load, nil)
	if err != nil {
		return failedRun(report.CommandVerify, sc.opts.Load.ProjectName, started, err)
	}
	shown := view(sc.opts.VerifyView)
	results, rep, err := sc.a.verifyPlan(ctx, plan, VerifyOptions{Load: sc.opts.Load, Run: sc.opts.Run}, shown)
	if ctx.Err() != nil {
		interrupted(&rep)
	}
	record := SinkFunc(func(Event) { sc.metrics.record(rep, nil) })
	ended(ctx, Tee(newAlertNotifier(ctx, plan, false, warnTo(sc.opts.Log)), record), rep, results, err)
	return rep
}

// maintenanceRun loads the plan, connects and runs body, and reports how it ended: to
// the alerts (not the healthcheck: that one says whether backups happen) and metrics.
func (sc *scheduler) maintenanceRun(ctx context.Context, command string, body func(context.Context, *composeext.Plan, *session) error) report.Run {
	started := time.Now()
	plan, err := LoadPlan(ctx, sc.opts.Load, nil)
	if err != nil {
		return failedRun(command, sc.opts.Load.ProjectName, started, err)
	}
	rep, err := commandRun(ctx, plan, command, func(rep *report.Run) error {
		s, err := sc.a.connect(ctx, plan)
		if err != nil {
			return err
		}
		rep.Machine = s.identity.Machine
		return body(ctx, plan, s)
	})
	if ctx.Err() != nil {
		interrupted(&rep)
	}
	record := SinkFunc(func(Event) { sc.metrics.record(rep, nil) })
	ended(ctx, Tee(newAlertNotifier(ctx, plan, false, warnTo(sc.opts.Log)), record), rep, nil, err)
	return rep
}
