// Package copies fills a project's copy repositories (x-backup.copies) within a run:
// each gets the confirmed snapshots of the project's series it does not hold yet, by
// restic copy, and then its own retention. A copy reads the source under restic's read
// lock and writes the copy under its append lock; it never forgets anything in the
// source and never removes a lock.
package copies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/retention"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// Target is one copy repository to fill.
type Target struct {
	Copy composeext.CopyPlan
	// Runner runs restic on the copy repository; its copy and init-from invocations
	// read the source too (helper.Runner.CopyRunner), found as From says.
	Runner restic.Runner
	From   restic.FromRepository
	// Err, when set, is why the copy repository cannot be reached at all (its password
	// could not be read…): its outcome is that failure.
	Err error
}

// Reporter is told what happens, per copy repository.
type Reporter interface {
	Start(name string)
	Step(name, msg string)
	Done(r report.Result)
	// Warn is a problem of the run, not of one copy.
	Warn(msg string)
}

// Env is what a copy run works with.
type Env struct {
	// Source runs restic on the primary repository.
	Source   restic.Runner
	Identity snapshot.Identity
	// AllHosts copies every machine's series of the project, not only this one's.
	AllHosts bool
	// Services are the plan's services: the copy's retention groups (and a copy
	// without its own policy keeps what each service's keeps).
	Services []composeext.ServicePlan
	Reporter Reporter
	// ReachWithin bounds the first contact with each copy repository; ReachWithin
	// (the constant) when zero.
	ReachWithin time.Duration
}

// ReachWithin is how long a copy repository may take to answer its first request.
// restic retries a backend that does not answer (a server down, a closed port, a
// network cut) for up to 15 minutes; an unreachable copy must fail in one line without
// holding the project's run, and the scheduler's backups, that long.
const ReachWithin = time.Minute

// Run lists the source's confirmed snapshots of the series once, then fills each
// target in turn (restic copies the IDs in the order given, the source's, oldest
// first) and returns their outcomes in order. A target that fails is its failure; the
// others still run. err is the run's own failure: the source could not be listed.
func Run(ctx context.Context, env Env, targets []Target) ([]report.Result, error) {
	snaps, err := restic.Snapshots(ctx, env.Source, snapshot.SeriesFilter(env.Identity, env.AllHosts))
	if err != nil {
		return nil, fmt.Errorf("primary repository: %w", err)
	}
	source := snapshot.Confirmed(snaps)
	results := make([]report.Result, 0, len(targets))
	for _, t := range targets {
		if ctx.Err() != nil {
			results = append(results, report.Result{Service: t.Copy.Name, Strategy: report.StrategyCopy, Status: report.StatusSkipped, Detail: report.NotBegun})
			continue
		}
		env.Reporter.Start(t.Copy.Name)
		r := fill(ctx, env, t, source)
		env.Reporter.Done(r)
		results = append(results, r)
	}
	return results, nil
}

// fill brings one copy repository up to date with source and applies its retention.
func fill(ctx context.Context, env Env, t Target, source []restic.Snapshot) report.Result {
	started := time.Now()
	res := report.Result{Service: t.Copy.Name, Strategy: report.StrategyCopy}
	fail := func(err error) report.Result {
		res.Status, res.Err, res.Duration = report.StatusFailed, err, time.Since(started)
		if ctx.Err() != nil {
			res.Status = report.StatusInterrupted
		}
		return res
	}
	if t.Err != nil {
		return fail(t.Err)
	}
	where := t.Copy.Repository.Where()
	exists, err := open(ctx, env, t.Runner)
	if err != nil {
		return fail(fmt.Errorf("copy repository %s: %w", where, err))
	}
	if !exists {
		if err := restic.InitFrom(ctx, t.Runner, t.From); err != nil {
			return fail(fmt.Errorf("copy repository %s: %w", where, err))
		}
		env.Reporter.Step(t.Copy.Name, "created "+where+" with the primary's chunker parameters")
	}
	held, err := restic.Snapshots(ctx, t.Runner, snapshot.SeriesFilter(env.Identity, env.AllHosts))
	if err != nil {
		return fail(fmt.Errorf("copy repository %s: %w", where, err))
	}
	want, err := wanted(ctx, env, t, source)
	if err != nil {
		return fail(fmt.Errorf("primary repository: %w", err))
	}
	ids := Missing(want, held)
	if len(ids) == 0 {
		env.Reporter.Step(t.Copy.Name, fmt.Sprintf("up to date: it holds the %d confirmed snapshot(s) its retention keeps", len(want)))
	} else {
		env.Reporter.Step(t.Copy.Name, fmt.Sprintf("copying %d of %d confirmed snapshot(s)", len(ids), len(want)))
	}
	err = restic.Copy(ctx, t.Runner, t.From, ids, func(p restic.CopyProgress) {
		if p.Saved != "" {
			res.Copied++
			env.Reporter.Step(t.Copy.Name, fmt.Sprintf("copied %d/%d (snapshot %s)", res.Copied, len(ids), p.Saved))
		}
	})
	if err != nil {
		return fail(fmt.Errorf("copy repository %s: %w", where, err))
	}
	res.Forgotten, res.Warnings = applyRetention(ctx, env, t)
	res.Status = report.StatusOK
	if len(res.Warnings) > 0 {
		res.Status = report.StatusWarning
	}
	res.Detail = fmt.Sprintf("%d snapshot(s) copied, %d forgotten by its retention", res.Copied, res.Forgotten)
	res.Duration = time.Since(started)
	return res
}

// open is restic.Open of a copy repository within env's ReachWithin (Reach).
func open(ctx context.Context, env Env, r restic.Runner) (exists bool, err error) {
	err = Reach(ctx, env.ReachWithin, func(ctx context.Context) error {
		exists, err = restic.Open(ctx, r)
		return err
	})
	return exists, err
}

// Reach runs first, the first request to a copy repository, within d (ReachWithin when
// zero): a repository that does not answer by then is ErrUnreachable, in one line.
func Reach(ctx context.Context, d time.Duration, first func(context.Context) error) error {
	if d == 0 {
		d = ReachWithin
	}
	rctx, cancel := context.WithTimeoutCause(ctx, d, ErrUnreachable)
	defer cancel()
	err := first(rctx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(rctx), ErrUnreachable) {
		return fmt.Errorf("%w within %s (restic was still retrying: check its address, the server and the network)", ErrUnreachable, d)
	}
	return err
}

// ErrUnreachable is a copy repository that did not answer in time.
var ErrUnreachable = errors.New("not reachable")

// wanted are the source's confirmed snapshots that the copy is to hold: of a service
// whose snapshots the copy's retention thins, those its policy keeps in the source's own
// series (restic forget --dry-run --no-lock on the source: nothing changes there, no
// lock is taken), since what it drops there it would forget in the copy after each
// copy, and copying it again and again would only churn; every other one. Older
// snapshots that only the copy holds do not change what the policy keeps of these.
func wanted(ctx context.Context, env Env, t Target, source []restic.Snapshot) ([]restic.Snapshot, error) {
	drop := map[string]bool{}
	for _, svc := range env.Services {
		keep := policyOf(t, svc).Keep()
		if svc.Strategy == composeext.StrategyNone || keep.Empty() {
			continue
		}
		groups, err := restic.Kept(ctx, env.Source, restic.ForgetOptions{
			Filter: snapshot.ServiceSeriesFilter(env.Identity, svc.Name, env.AllHosts), GroupBy: snapshot.GroupBy, Keep: keep,
		})
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			for _, s := range g.Remove {
				drop[s.ID] = true
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(source), func(s restic.Snapshot) bool { return drop[s.ID] }), nil
}

// policyOf is the retention a copy applies to a service's series: its own, else the
// service's.
func policyOf(t Target, svc composeext.ServicePlan) *retention.Policy {
	if t.Copy.Retention != nil {
		return t.Copy.Retention
	}
	return svc.Retention
}

// Missing are the IDs of the source snapshots that a copy repository holding held does
// not hold yet (a copied snapshot records its source's ID as its original), in the
// source's order.
func Missing(source, held []restic.Snapshot) []string {
	there := map[string]bool{}
	for _, s := range held {
		there[s.ID] = true
		if s.Original != "" {
			there[s.Original] = true
		}
	}
	var ids []string
	for _, s := range source {
		if !there[s.ID] {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// applyRetention forgets, in the copy repository, what its policy does not keep, in
// the primary's retention groups (one series per host and paths of each service): the
// copy's own policy, else each service's. A forget that fails (a lock someone else
// holds) is a warning: the snapshots stay until the next copy.
func applyRetention(ctx context.Context, env Env, t Target) (forgotten int, warnings []string) {
	for _, svc := range env.Services {
		keep := policyOf(t, svc).Keep()
		if svc.Strategy == composeext.StrategyNone || keep.Empty() {
			continue
		}
		groups, err := restic.Forget(ctx, t.Runner, restic.ForgetOptions{
			Filter: snapshot.ServiceSeriesFilter(env.Identity, svc.Name, env.AllHosts), GroupBy: snapshot.GroupBy, Keep: keep,
		})
		if err != nil {
			if ctx.Err() != nil {
				return forgotten, warnings
			}
			warnings = append(warnings, fmt.Sprintf("retention of %s in the copy not applied, the next copy applies it: %v", svc.Name, err))
			if errors.Is(err, restic.ErrLocked) {
				// The others would meet the same holder.
				return forgotten, warnings
			}
			continue
		}
		for _, g := range groups {
			forgotten += len(g.Remove)
		}
	}
	return forgotten, warnings
}
