// Package backup carries out `docker backup up` within a run (package run): it backs up
// each declared service through restic helpers (volumes or a streamed dump), confirms
// the dumps that completed, applies the retention, and reports as it goes. It knows
// nothing of the command line.
package backup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/restic"
	"github.com/docker-backup/docker-backup/run"
)

// Status is how a service's backup ended.
type Status string

// The statuses of a service's backup.
const (
	StatusOK      Status = "ok"
	StatusWarning Status = "warning" // a snapshot was made, but some files could not be read
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // declared strategy none
)

// Result is one service's outcome.
type Result struct {
	Service  string
	Strategy composeext.Strategy
	Status   Status
	Summary  restic.Summary
	Duration time.Duration
	// Warnings name files restic could not read, and retention problems.
	Warnings []string
	Err      error
	// unconfirmed is the dump snapshot the run confirms at its end: stored whole, the
	// dump command having exited 0 (a post hook may still have failed).
	unconfirmed string
}

// Reporter receives progress as the run goes. Calls may come from several goroutines.
type Reporter interface {
	Start(service string, strategy composeext.Strategy)
	Progress(service string, s restic.Status)
	Done(r Result)
	// Warn reports a problem that concerns the run, not one service.
	Warn(msg string)
}

// Env is what a backup needs: the run it is part of, the plan, where to report.
type Env struct {
	Run      *run.Run
	Plan     *composeext.Plan
	Reporter Reporter
}

// Options are up's flags.
type Options struct {
	Parallel int
	NoForget bool
}

// Up backs up every service in the plan and returns one result per service, in plan
// order; a service's failure is in its result. Services are reported done once their
// snapshot is confirmed.
func Up(ctx context.Context, env Env, opts Options) []Result {
	results := make([]Result, len(env.Plan.Services))
	parallel := max(opts.Parallel, 1)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, svc := range env.Plan.Services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = backupService(ctx, env, svc)
		}()
	}
	wg.Wait()
	confirmDumps(ctx, env, results)
	for _, r := range results {
		if awaitsConfirmation(r) {
			env.Reporter.Done(r)
		}
	}
	if !opts.NoForget && ctx.Err() == nil {
		applyRetention(ctx, env, results)
	}
	return results
}

func backupService(ctx context.Context, env Env, svc composeext.ServicePlan) Result {
	res := Result{Service: svc.Name, Strategy: svc.Strategy}
	if svc.Strategy == composeext.StrategyNone {
		res.Status = StatusSkipped
		env.Reporter.Done(res)
		return res
	}
	env.Reporter.Start(svc.Name, svc.Strategy)
	start := time.Now()
	var err error
	switch svc.Strategy {
	case composeext.StrategyVolumes:
		res.Summary, res.Warnings, err = backupVolumes(ctx, env, svc)
	case composeext.StrategyDump:
		res.Summary, res.unconfirmed, err = backupDump(ctx, env, svc)
	default:
		err = fmt.Errorf("unknown strategy %q", svc.Strategy)
	}
	res.Duration = time.Since(start)
	switch {
	case err == nil:
		res.Status = StatusOK
	case errors.Is(err, restic.ErrIncomplete):
		res.Status = StatusWarning
		res.Warnings = append(res.Warnings, err.Error())
	default:
		res.Status, res.Err = StatusFailed, err
	}
	if !awaitsConfirmation(res) {
		env.Reporter.Done(res)
	}
	return res
}

// awaitsConfirmation reports whether a result is a dump to confirm at the end of the run.
func awaitsConfirmation(r Result) bool { return r.unconfirmed != "" }

// helperMounts are the mounts a volumes backup or restore gives its helper.
func helperMounts(svc composeext.ServicePlan, readOnly bool) ([]restic.Mount, []string) {
	var mounts []restic.Mount
	var paths []string
	for _, m := range svc.Volumes {
		mounts = append(mounts, restic.Mount{Type: m.Type, Source: m.Source, Target: m.Path, ReadOnly: readOnly})
		paths = append(paths, m.Path)
	}
	return mounts, paths
}
