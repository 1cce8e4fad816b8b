package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/copies"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/schedule"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// copyJobPrefix names the job of a copy on its own schedule: "copy offsite".
const copyJobPrefix = "copy "

// copyJobs are the scheduler's jobs of the copies that have their own schedule; the
// others (afterUp) are copied at the end of each scheduled up, within its job.
func (sc *scheduler) copyJobs(plan *composeext.Plan) (jobs []schedule.Job, afterUp []string) {
	for _, c := range plan.Copies {
		if c.Schedule == "" {
			afterUp = append(afterUp, c.Name)
			continue
		}
		name := c.Name
		jobs = append(jobs, schedule.Job{Name: copyJobPrefix + name, Spec: c.Schedule, Run: func(ctx context.Context) report.Run {
			return sc.scheduledCopy(ctx, []string{name})
		}})
	}
	return jobs, afterUp
}

// scheduledCopy is docker backup copy of the copies named, as the command runs it
// (its own run of the project, its failure alerts), then their standing against the
// primary: to the metrics, and an alert for one that lags more than its max_lag. A
// copy never changes how the backup before it went.
func (sc *scheduler) scheduledCopy(ctx context.Context, names []string) report.Run {
	rep, _ := sc.a.Copy(ctx, CopyOptions{Load: sc.opts.Load, Names: names, Run: sc.opts.Run}, view(sc.opts.CopyView))
	sc.metrics.record(rep, nil)
	if ctx.Err() == nil {
		sc.checkCopies(ctx, names)
	}
	return rep
}

// copyAfterUp copies to the copies without a schedule of their own, at the end of a
// scheduled up's job (whatever the up's outcome: the confirmed snapshots it has are
// worth copying), and records their outcome in the state.
func (sc *scheduler) copyAfterUp(ctx context.Context) {
	if len(sc.afterUp) == 0 || ctx.Err() != nil {
		return
	}
	rep := sc.scheduledCopy(ctx, sc.afterUp)
	sc.log.printf("copy %v: %s in %s", sc.afterUp, rep.Status, rep.Duration.Round(100*time.Millisecond))
	sc.warn(sc.tracker.CopyDone(rep))
}

// checkCopies looks at how the copies named stand against the primary (copies.Stand)
// and alerts, once each time it happens, for one that has come to lag more than its
// max_lag. A copy repository that cannot be listed counts as holding what it held when
// last listed by this scheduler (nothing, before that): an unreachable copy's lag keeps
// growing, and its alert comes.
func (sc *scheduler) checkCopies(ctx context.Context, names []string) {
	plan, err := LoadPlan(ctx, sc.opts.Load, nil)
	if err != nil {
		sc.log.printf("copy: standing not checked: %v", err)
		return
	}
	s, err := sc.a.connect(ctx, plan)
	if err != nil {
		sc.log.printf("copy: standing not checked: %v", err)
		return
	}
	snaps, err := restic.Snapshots(ctx, s.runner, snapshot.SeriesFilter(s.identity, false))
	if err != nil {
		sc.log.printf("copy: standing not checked: primary repository %s: %s", plan.Repository.Where(), report.OneLine(err.Error()))
		return
	}
	source := snapshot.Confirmed(snaps)
	now := time.Now()
	for _, name := range names {
		c, ok := plan.Copy(name)
		if !ok {
			continue
		}
		held, err := sc.a.copySnapshots(ctx, s, *c)
		if err != nil {
			held = sc.held[name]
		} else {
			sc.held[name] = held
		}
		st := copies.Stand(source, held, now)
		sc.metrics.copyStanding(plan.Project, name, st)
		over := c.MaxLag > 0 && st.Lag > time.Duration(c.MaxLag)
		if st.Behind > 0 {
			sc.log.printf("%s%s: lags the primary by %s (%d confirmed snapshot(s) not copied)", copyJobPrefix, name, st.Lag.Round(time.Second), st.Behind)
		}
		if over && !sc.behind[name] {
			msg := lagProblem(*c, st)
			sc.log.printf("%s%s: %s: alerting", copyJobPrefix, name, msg)
			rep := report.Run{Command: report.CommandCopy, Project: plan.Project, Machine: s.identity.Machine, Started: now,
				Status: report.StatusFailed, Services: []report.Service{{Service: name, Strategy: report.StrategyCopy, Status: report.StatusFailed, Error: msg}}}
			newAlertNotifier(ctx, plan, false, warnTo(sc.opts.Log)).done(ctx, rep)
		}
		sc.behind[name] = over
	}
}

// lagProblem says that a copy lags more than its max_lag, in one line.
func lagProblem(c composeext.CopyPlan, st copies.Standing) string {
	return fmt.Sprintf("lags the primary by %s, more than its max_lag %s (%d confirmed snapshot(s) not copied, the oldest of %s)",
		st.Lag.Round(time.Second), time.Duration(c.MaxLag), st.Behind, st.Oldest.Local().Format(time.DateTime))
}

// copySnapshots lists the snapshots of the session's series in the copy repository c,
// with the session's helpers (no lock is taken beyond restic's for a listing). A copy
// repository not created yet holds none.
func (a *App) copySnapshots(ctx context.Context, s *session, c composeext.CopyPlan) ([]restic.Snapshot, error) {
	repo, err := openRepository(ctx, c.Repository, a.notes())
	if err != nil {
		return nil, fmt.Errorf("copy repository %s: %w", c.Repository.Where(), unwrapInvalid(err))
	}
	r := *s.runner
	r.Repo = repo
	var snaps []restic.Snapshot
	// An unreachable copy is one line within a minute, not restic's 15 minutes of
	// retries, in status as in the scheduler.
	err = copies.Reach(ctx, 0, func(ctx context.Context) (err error) {
		snaps, err = restic.Snapshots(ctx, &r, snapshot.SeriesFilter(s.identity, false))
		return err
	})
	if errors.Is(err, restic.ErrRepoNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("copy repository %s: %w", c.Repository.Where(), err)
	}
	return snaps, nil
}

// copyStanding records a copy's standing in the metrics.
func (s *scheduleMetrics) copyStanding(project, name string, st copies.Standing) {
	if s == nil {
		return
	}
	var newest time.Time
	if st.Newest != nil {
		newest = st.Newest.Time
	}
	s.m.ObserveCopy(project, name, newest, st.Lag, st.Behind)
	s.write()
}
