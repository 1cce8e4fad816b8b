// Package backup carries out `docker backup up` within a run (package run): it backs up
// each declared service through restic helpers (volumes or a streamed dump), applies
// the retention, and reports as it goes. It knows
// nothing of the command line.
package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// Status is how a service's backup ended: report's statuses, which alerts, metrics and
// the scheduler read.
type Status = report.Status

// The statuses of a service's backup.
const (
	StatusOK      = report.StatusOK
	StatusWarning = report.StatusWarning // a snapshot was made, but some files could not be read
	StatusFailed  = report.StatusFailed
	StatusSkipped = report.StatusSkipped // declared strategy none
)

// outcome is a service's result as its backup builds it.
type outcome struct {
	report.Result
	// hookWarning is set when a post or outcome hook failed: an ok backup is a warning.
	hookWarning bool
	// movedWarning is set when a dump's task moved to another node (movedDump): an ok
	// backup is a warning.
	movedWarning bool
}

// Reporter receives progress as the run goes. Calls may come from several goroutines.
type Reporter interface {
	Start(service string, strategy composeext.Strategy)
	Progress(service string, s restic.Status)
	Done(r report.Result)
	// Warn reports a problem that concerns the run, not one service.
	Warn(msg string)
}

// Env is what a backup needs: the run it is part of, the plan, where to report.
type Env struct {
	Run      *run.Run
	Plan     *composeext.Plan
	Reporter Reporter
	// Place, when set, says where each service of a swarm stack is backed up (stack.go);
	// nil for a compose project.
	Place func(svc composeext.ServicePlan) Placement
	// history is the stack's snapshots, listed once by the first service that needs
	// them (moved.go); Up sets it for a stack.
	history *history
}

// Options are up's flags.
type Options struct {
	Parallel int
	NoForget bool
}

// Up backs up every service in the plan and returns one result per service, in plan
// order; a service's failure is in its result.
func Up(ctx context.Context, env Env, opts Options) []report.Result {
	results := make([]report.Result, len(env.Plan.Services))
	if env.Run.Overlapped() {
		// Nothing shows before the opening proved the repository: a wrong password is
		// the command's one line, not one per service.
		g := newGatedReporter(ctx, env.Reporter, env.Run)
		env.Reporter = g
		defer g.wait()
	}
	if env.Place != nil && env.history == nil {
		env.history = &history{}
	}
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
	// On a stack too: a service whose task moved onto a new, empty volume failed
	// (checkMoved), and retention leaves a failed service's snapshots alone.
	if env.Run.Opened(ctx) != nil {
		return results
	}
	if !opts.NoForget && ctx.Err() == nil {
		env.Run.Settle(ctx)
		applyRetention(ctx, env, results)
	}
	return results
}

func backupService(ctx context.Context, env Env, svc composeext.ServicePlan) report.Result {
	res := &outcome{Result: report.Result{Service: svc.Name, Strategy: string(svc.Strategy)}}
	if svc.Strategy == composeext.StrategyNone {
		res.Status = StatusSkipped
		env.Reporter.Done(res.Result)
		return res.Result
	}
	var place *Placement
	if env.Place != nil {
		p := env.Place(svc)
		if msg := p.refusal(svc); msg != "" {
			res.Status, res.Err = StatusFailed, errors.New(msg)
			env.Reporter.Done(res.Result)
			return res.Result
		}
		place = &p
	}
	if needsOpening(svc) {
		// Never stopped, never a hook run, before the password is known good.
		if err := env.Run.Opened(ctx); err != nil {
			res.Status, res.Err = StatusFailed, err
			env.Reporter.Done(res.Result)
			return res.Result
		}
	}
	env.Reporter.Start(svc.Name, svc.Strategy)
	start := time.Now()
	sctx, cancel := serviceContext(ctx, svc)
	defer cancel()
	err := withHooks(sctx, env, svc, place, res, func(ctx context.Context) error {
		err := backupBody(ctx, env, svc, place, res)
		if err != nil && env.Run.Created(ctx) {
			// It ran beside the opening, which found no repository and created it.
			err = backupBody(ctx, env, svc, place, res)
		}
		return err
	})
	if cause := context.Cause(sctx); ctx.Err() == nil && errors.Is(cause, errTimeout) && err != nil {
		err = cause
	}
	res.Duration = time.Since(start)
	res.Snapshot = res.Summary.SnapshotID
	switch {
	case err == nil:
		res.Status = StatusOK
	case errors.Is(err, restic.ErrIncomplete):
		res.Status = StatusWarning
		res.Warnings = append(res.Warnings, err.Error())
	default:
		res.Status, res.Err = StatusFailed, err
	}
	finish(ctx, env, svc, place, res)
	return res.Result
}

// needsOpening reports whether a service's backup waits for the run's opening when it
// overlaps the backups (run.Options.Overlap): one that stops the service or runs a
// hook does. Otherwise restic's own backup proves the password before it reads
// anything.
func needsOpening(svc composeext.ServicePlan) bool {
	return svc.Stop || len(svc.Pre) > 0 || len(svc.Post) > 0 || len(svc.OnSuccess) > 0 || len(svc.OnFailure) > 0
}

// backupBody backs up the service by its strategy, between its hooks.
func backupBody(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement, res *outcome) error {
	var err error
	switch svc.Strategy {
	case composeext.StrategyVolumes:
		if place != nil {
			if err := checkMoved(ctx, env, svc, place); err != nil {
				return err
			}
		}
		var warnings []string
		res.Summary, warnings, err = backupVolumes(ctx, env, svc, place)
		res.Warnings = append(res.Warnings, warnings...)
	case composeext.StrategyDump:
		moved := ""
		if place != nil {
			if moved, err = movedDump(ctx, env, svc, place); err != nil {
				return err
			}
		}
		res.Summary, err = backupDump(ctx, env, svc, place)
		if err == nil && moved != "" {
			res.Warnings = append(res.Warnings, moved)
			res.movedWarning = true
			env.history.hold(svc.Name)
		}
	default:
		err = fmt.Errorf("unknown strategy %q", svc.Strategy)
	}
	return err
}

// errTimeout is the cause of a service's backup ended by its timeout.
var errTimeout = errors.New("timed out")

// serviceContext bounds a service's backup by its timeout, if it has one.
func serviceContext(ctx context.Context, svc composeext.ServicePlan) (context.Context, context.CancelFunc) {
	if svc.Timeout == 0 {
		return context.WithCancel(ctx)
	}
	d := time.Duration(svc.Timeout)
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("the backup of %q did not end within its timeout (%s) and was ended: %w", svc.Name, d, errTimeout))
}

// finish runs the outcome hooks of a service whose outcome is known, and reports it.
func finish(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement, res *outcome) {
	runOutcomeHooks(ctx, env, svc, place, res)
	if (res.hookWarning || res.movedWarning) && res.Status == StatusOK {
		res.Status = StatusWarning
	}
	env.Reporter.Done(res.Result)
}

// helperMounts are the mounts a volumes backup or restore gives its helper.
// RunMounts are the mounts the backups of plan's volumes services need: a run that
// mounts them in its host (run.Options.Mounts) backs them up without helpers.
func RunMounts(plan *composeext.Plan) []restic.Mount {
	var all []restic.Mount
	for _, svc := range plan.Services {
		if svc.Strategy == composeext.StrategyVolumes {
			m, _ := helperMounts(svc, true)
			all = append(all, m...)
		}
	}
	return all
}

func helperMounts(svc composeext.ServicePlan, readOnly bool) ([]restic.Mount, []string) {
	var mounts []restic.Mount
	var paths []string
	for _, m := range svc.Volumes {
		mounts = append(mounts, restic.Mount{Type: m.Type, Source: m.Source, Target: m.Path, ReadOnly: readOnly})
		paths = append(paths, m.Path)
	}
	return mounts, paths
}

// ResticOptions are what restic stores of a volumes or dump service: as host, host;
// its tags, with the tag of run runID when not empty; its mounted paths and excludes,
// or its dump's file name (the helper adds the command that streams it). The backup
// and up --dry-run both build restic's command from them.
func ResticOptions(svc composeext.ServicePlan, host, runID string) restic.BackupOptions {
	o := restic.BackupOptions{Service: svc.Name, Host: host, Tags: slices.Clone(svc.Tags)}
	if runID != "" {
		o.Tags = append(o.Tags, snapshot.RunTag(runID))
	}
	if svc.Strategy == composeext.StrategyDump {
		o.Kind, o.StdinFilename, o.StdinInHelper = helper.KindDump, svc.Dump.Filename, true
		return o
	}
	o.Kind, o.Excludes = "backup", svc.ExcludePaths
	o.Mounts, o.Paths = helperMounts(svc, true)
	return o
}
