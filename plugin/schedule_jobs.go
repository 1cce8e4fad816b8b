package plugin

import (
	"context"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// scheduledCheck is restic check on x-backup.check.schedule, with its read_data_subset.
func scheduledCheck(ctx context.Context, opts *scheduleOptions) report.Run {
	return maintenanceRun(ctx, opts, "check", func(ctx context.Context, plan *composeext.Plan, s *session) error {
		subset := ""
		if plan.Check != nil {
			subset = plan.Check.ReadDataSubset
		}
		return restic.Check(ctx, s.runner, subset, opts.d.streams.Out)
	})
}

// scheduledPrune is restic prune on x-backup.prune.schedule, in a run of the project
// (no backup or restore of it runs meanwhile).
func scheduledPrune(ctx context.Context, opts *scheduleOptions) report.Run {
	return maintenanceRun(ctx, opts, "prune", func(ctx context.Context, plan *composeext.Plan, s *session) error {
		r, err := s.begin(ctx, plan, "prune", opts.run, beginOptions{}, warnTo(opts.d.streams.Out))
		if err != nil {
			return err
		}
		defer r.End(ctx)
		return restic.Prune(ctx, r.Runner, opts.d.streams.Out)
	})
}

// scheduledVerify is the restore drill of every service on x-backup.verify.schedule,
// with verify's defaults; each service's result is a line of the log, and a failed
// drill is alerted (no healthcheck ping: that one says whether backups happen).
func scheduledVerify(ctx context.Context, opts *scheduleOptions) report.Run {
	started := time.Now()
	plan, err := loadPlan(ctx, opts.load, nil)
	if err != nil {
		return failedRun(report.CommandVerify, opts.load.ProjectName, started, err)
	}
	vopts := &verifyOptions{load: opts.load, run: opts.run, d: opts.d}
	_, rep, _ := verifyPlan(ctx, vopts, plan, &verifyProgress{out: opts.d.streams.Out, mask: plan.Mask})
	if ctx.Err() != nil {
		interrupted(&rep)
	}
	newAlertNotifier(plan, false, warnTo(opts.d.streams.Out)).done(ctx, rep)
	opts.metrics.record(rep, nil)
	return rep
}

// maintenanceRun loads the plan, connects and runs body, and reports how it ended: to
// the alerts (not the healthcheck: that one says whether backups happen) and metrics.
func maintenanceRun(ctx context.Context, opts *scheduleOptions, command string, body func(context.Context, *composeext.Plan, *session) error) report.Run {
	started := time.Now()
	plan, err := loadPlan(ctx, opts.load, nil)
	if err != nil {
		return failedRun(command, opts.load.ProjectName, started, err)
	}
	rep, _ := commandRun(ctx, plan, command, func(rep *report.Run) error {
		s, err := connect(ctx, opts.d, plan)
		if err != nil {
			return err
		}
		rep.Machine = s.identity.Machine
		return body(ctx, plan, s)
	})
	if ctx.Err() != nil {
		interrupted(&rep)
	}
	newAlertNotifier(plan, false, warnTo(opts.d.streams.Out)).done(ctx, rep)
	opts.metrics.record(rep, nil)
	return rep
}
