// Package verify carries out `docker backup verify`, the restore drill: it loads each
// service's backup into throwaway copies of the service (a copy of its container with
// fresh volumes and no network, or throwaway volumes) and checks the result, while the
// live service runs on untouched. It uses restore's steps (snapshot selection, dump
// streaming, restic restore --verify) and knows nothing of the command line.
package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/failure"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// Kind is the io.docker-backup.kind label of the drill's throwaway containers.
const Kind = "verify"

// DefaultTimeout bounds one service's drill.
const DefaultTimeout = 30 * time.Minute

// readyTimeout bounds the wait for a throwaway copy's server (initialising a fresh
// database takes seconds to a minute); the service's timeout bounds it too.
const readyTimeout = 10 * time.Minute

// Env is what a drill needs from the outside world.
type Env struct {
	API      engine.API
	Runner   restic.Runner
	Identity snapshot.Identity
	Plan     *composeext.Plan
	Reporter Reporter
	// Run is the run the drill is part of (its labels name the throwaways, and its
	// recovery removes a dead drill's); Prepare needs none.
	Run *run.Run
	// Location reads dates given without a zone; time.Local when nil.
	Location *time.Location
	// Stack is true for a swarm stack: the drill runs on the engine asked (a manager),
	// which needs none of the nodes' volumes; what needs the service's containers is
	// skipped (cannotDrill).
	Stack bool
}

// Options are verify's flags.
type Options struct {
	// Snapshot selects each service's snapshot (an ID or ID prefix, a date); empty is
	// the latest.
	Snapshot string
	// Keep leaves the throwaways for inspection (report.Result.Kept says how to remove them).
	Keep bool
	// Parallel is how many services are drilled at once (1 when 0).
	Parallel int
	// Timeout bounds each service's drill (DefaultTimeout when 0).
	Timeout time.Duration
}

// Reporter receives progress as a drill goes; with Parallel above 1, from several
// drills at once.
type Reporter interface {
	Step(service, message string)
	Done(r report.Result)
}

// Status is how a service's drill ended: report's statuses, so that metrics and alerts
// take a drill as they take a backup.
type Status = report.Status

// A drill passed, failed, or had nothing to do (strategy none, nothing to load a dump with).
const (
	StatusOK      = report.StatusOK
	StatusFailed  = report.StatusFailed
	StatusSkipped = report.StatusSkipped
)

// Job is one service to drill: its restore job (snapshot resolved), or a result
// already known (skipped, or no snapshot to drill).
type Job struct {
	restore.Job
	// Known, when set, is the job's result without a drill.
	Known *report.Result
}

// Prepare resolves the services to drill (all the plan's when names is empty) to jobs,
// without creating anything. A service named that cannot be drilled is an error; one
// not named is skipped with the reason.
func Prepare(ctx context.Context, env Env, names []string, opts Options) ([]Job, error) {
	plan := drillPlan(env.Plan)
	renv := restore.Env{API: env.API, Runner: env.Runner, Identity: env.Identity, Plan: plan, Location: env.Location}
	selector := opts.Snapshot
	if selector == "" {
		selector = "latest"
	}
	loc := env.Location
	if loc == nil {
		loc = time.Local
	}
	isID, err := restore.SelectorIsID(selector, loc)
	if err != nil {
		return nil, inputErrorf("--snapshot: %v", err)
	}
	if isID && len(names) != 1 {
		return nil, inputErrorf("--snapshot %s is a snapshot ID, which is one service's: name that service (a date selects each service's newest snapshot at or before it)", selector)
	}
	for _, n := range names {
		if !slices.ContainsFunc(plan.Services, func(s composeext.ServicePlan) bool { return s.Name == n }) {
			return nil, inputErrorf("service %s declares no backup: nothing to verify", n)
		}
	}
	var jobs []Job
	for _, svc := range plan.Services {
		named := slices.Contains(names, svc.Name)
		if len(names) > 0 && !named {
			continue
		}
		if why := cannotDrill(svc, env.Stack); why != "" {
			if named {
				return nil, inputErrorf("service %s: %s", svc.Name, why)
			}
			jobs = append(jobs, Job{Known: &report.Result{Service: svc.Name, Strategy: string(svc.Strategy), Status: StatusSkipped, Detail: why}})
			continue
		}
		rj, err := restore.Prepare(ctx, renv, []restore.Target{{Service: svc.Name, Snapshot: selector}}, restore.Options{})
		switch {
		case errors.Is(err, restore.ErrSnapshot):
			jobs = append(jobs, Job{Known: &report.Result{Service: svc.Name, Strategy: string(svc.Strategy), Status: StatusFailed, Err: errors.Unwrap(err)}})
			continue
		case err != nil:
			return nil, err
		}
		jobs = append(jobs, Job{Job: rj[0]})
	}
	if len(jobs) == 0 {
		return nil, inputErrorf("no service of project %s declares a backup: nothing to verify", env.Plan.Project)
	}
	return jobs, nil
}

// ErrInput is a drill asked of services that cannot have one: bad input, nothing drilled.
var ErrInput = errors.New("nothing to verify")

// inputErrorf returns an ErrInput with its own message.
func inputErrorf(format string, args ...any) error {
	return failure.Newf(ErrInput, format, args...)
}

// cannotDrill says why a service has no drill, or "". On a swarm stack, what copies
// the service's container (a dump's throwaway server, x-backup.verify's container of
// its image) is not drilled yet: the service's containers are on the nodes.
func cannotDrill(svc composeext.ServicePlan, stack bool) string {
	switch {
	case svc.Strategy == composeext.StrategyNone:
		return "strategy none: nothing to verify"
	case stack && svc.Strategy == composeext.StrategyDump:
		return "dumps are not drilled on a swarm stack yet"
	case stack && len(svc.Verify) > 0:
		return "x-backup.verify does not run on a swarm stack yet"
	case svc.Strategy == composeext.StrategyDump && len(svc.Dump.Restore) == 0:
		return "no restore command to load the dump with: declare x-backup.restore"
	}
	return ""
}

// drillPlan is the plan as the drill restores it: a preset without a restore command
// (redis) loads its dump with the drill's own command.
func drillPlan(p *composeext.Plan) *composeext.Plan {
	dp := *p
	dp.Services = slices.Clone(p.Services)
	for i, svc := range dp.Services {
		if svc.Strategy == composeext.StrategyDump && len(svc.Dump.Restore) == 0 && svc.Dump.Drill != nil && len(svc.Dump.Drill.Load) > 0 {
			d := svc.Dump
			d.Restore = d.Drill.Load
			dp.Services[i].Dump = d
		}
	}
	return &dp
}

// Run drills the jobs, opts.Parallel at a time, each within opts.Timeout, and returns
// their results in the jobs' order. A drill's throwaways are removed as it ends,
// whatever the outcome (unless opts.Keep); Ctrl-C (ctx) ends every drill so.
func Run(ctx context.Context, env Env, jobs []Job, opts Options) []report.Result {
	parallel := max(opts.Parallel, 1)
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	results := make([]report.Result, len(jobs))
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, job := range jobs {
		if job.Known != nil {
			results[i] = *job.Known
			env.Reporter.Done(results[i])
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			results[i] = report.Result{Service: job.Service.Name, Strategy: string(job.Service.Strategy), Snapshot: job.Snapshot.ID, Status: StatusFailed, Err: ctx.Err()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			results[i] = drill(ctx, env, job.Job, opts, timeout)
			env.Reporter.Done(results[i])
		}()
	}
	wg.Wait()
	return results
}

// drill runs one service's drill within its timeout.
func drill(ctx context.Context, env Env, job restore.Job, opts Options, timeout time.Duration) report.Result {
	svc := job.Service
	res := report.Result{Service: svc.Name, Strategy: string(svc.Strategy), Snapshot: job.Snapshot.ID}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := &throwaways{env: env, service: svc.Name, keep: opts.Keep}
	var err error
	switch svc.Strategy {
	case composeext.StrategyDump:
		res.Detail, err = drillDump(tctx, env, job, t, &res)
	case composeext.StrategyVolumes:
		res.Detail, err = drillVolumes(tctx, env, job, t, &res)
	default:
		err = fmt.Errorf("unknown strategy %q", svc.Strategy)
	}
	res.Kept = t.end(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		res.Err = ctx.Err()
	case err != nil && errors.Is(tctx.Err(), context.DeadlineExceeded):
		res.Err = fmt.Errorf("the drill did not end within its timeout of %s: %w", timeout, err)
	default:
		res.Err = err
	}
	res.Status = StatusOK
	if res.Err != nil {
		res.Status = StatusFailed
	}
	return res
}

// Failed reports whether any drill failed.
func Failed(results []report.Result) bool {
	return slices.ContainsFunc(results, func(r report.Result) bool { return r.Status == StatusFailed })
}

// Lines splits a failure's message into its lines: the first says what failed, the
// others (a command's stderr tail, which the helpers join with " | ") follow.
func Lines(msg string) []string {
	msg = strings.ReplaceAll(msg, "\r", "")
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		for _, part := range strings.Split(l, " | ") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
