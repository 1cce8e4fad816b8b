// Package backup carries out `docker backup up`: it opens the repository once, backs up
// each declared service through restic helpers (volumes or a streamed dump), applies the
// retention, and reports as it goes. It knows nothing of the command line.
package backup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
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
}

// Reporter receives progress as the run goes. Calls may come from several goroutines.
type Reporter interface {
	Start(service string, strategy composeext.Strategy)
	Progress(service string, s restic.Status)
	Done(r Result)
	// Warn reports a problem that concerns the run, not one service.
	Warn(msg string)
}

// Env is what a run needs from the outside world.
type Env struct {
	API      engine.API
	Runner   restic.Runner
	Plan     *composeext.Plan
	Reporter Reporter
}

// Options are up's flags.
type Options struct {
	Parallel int
	NoForget bool
}

// stopTimeout is how long a service gets to stop before it is killed, as compose's default.
const stopTimeout = 10 * time.Second

// Up backs up every service in the plan and returns one result per service, in plan
// order. The error is for what stops the whole run (the repository cannot be opened);
// a service's failure is in its result.
func Up(ctx context.Context, env Env, opts Options) ([]Result, error) {
	if err := Recover(ctx, env.API, env.Plan.Project); err != nil {
		return nil, err
	}
	if err := OpenRepository(ctx, env.API, env.Runner, env.Plan); err != nil {
		return nil, err
	}
	forgotten, err := forgetOrphanDumps(ctx, env.API, env.Runner, env.Plan.Project)
	if err != nil {
		return nil, err
	}
	for _, f := range forgotten {
		env.Reporter.Warn(fmt.Sprintf("forgot snapshot %s: its dump was interrupted before it was confirmed", f))
	}
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
	if !opts.NoForget && ctx.Err() == nil {
		applyRetention(ctx, env, results)
	}
	return results, nil
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
		res.Summary, err = backupDump(ctx, env, svc)
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
	env.Reporter.Done(res)
	return res
}

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
