// Package restore carries out `docker backup restore`: it selects a service's snapshot,
// restores volumes through a staging volume that is verified before it replaces the live
// content (keeping the previous content as a rollback volume), and streams dumps into
// the service's restore command. It knows nothing of the command line.
package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// Env is what a restore needs from the outside world.
type Env struct {
	API      engine.API
	Runner   restic.Runner
	Identity snapshot.Identity
	Plan     *composeext.Plan
	Reporter Reporter
	// Run is the run that restores (package run); Prepare needs none.
	Run *run.Run
	// Now names rollback volumes; time.Now when nil.
	Now func() time.Time
	// Location reads dates given without a zone; time.Local when nil.
	Location *time.Location
	// Place, when set, places each service of a swarm stack (stack.go): Run restores
	// its volumes on that node.
	Place func(svc composeext.ServicePlan) Placement
	// Poll is how often a stack's service is looked at while its tasks end; a second
	// when zero.
	Poll time.Duration
}

func (e Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// Options are restore's flags.
type Options struct {
	// To restores a volumes service into this volume (several: To_<key>), or a dump into
	// this service of the project, instead of the service's own.
	To string
	// NoRollback removes the previous content once the restore has succeeded.
	NoRollback bool
	// Stack is true on a swarm stack: Steps says what happens there (Env.Place).
	Stack bool
}

// Reporter receives progress as a restore goes.
type Reporter interface {
	Start(job Job)
	Step(service, message string)
	Progress(service string, s restic.RestoreStatus)
	Done(r report.Result)
}

// Job is one service's restore, resolved: which snapshot, into what.
type Job struct {
	Service  composeext.ServicePlan
	Snapshot restic.Snapshot
	// To is Options.To.
	To string
	// DumpPath is the dump file in the snapshot.
	DumpPath string
}

// Prepare resolves each target to a job without changing anything: the service's
// declaration, its snapshot, and whether that snapshot fits the declaration.
func Prepare(ctx context.Context, env Env, targets []Target, opts Options) ([]Job, error) {
	loc := env.Location
	if loc == nil {
		loc = time.Local
	}
	var jobs []Job
	for _, t := range targets {
		i := slices.IndexFunc(env.Plan.Services, func(s composeext.ServicePlan) bool { return s.Name == t.Service })
		if i < 0 {
			return nil, fmt.Errorf("service %s declares no backup: nothing to restore", t.Service)
		}
		svc := env.Plan.Services[i]
		switch {
		case svc.Strategy == composeext.StrategyNone:
			return nil, fmt.Errorf("service %s has strategy none: nothing to restore", svc.Name)
		case svc.Strategy == composeext.StrategyDump && len(svc.Dump.Restore) == 0:
			note := svc.Dump.RestoreNote
			if note == "" {
				note = "declare x-backup.restore, a command that reads the dump on its standard input"
			}
			return nil, fmt.Errorf("service %s has no restore command: %s", svc.Name, note)
		}
		if replaced := svc.ReplacedExcludes(); opts.NoRollback && opts.To == "" && svc.Strategy == composeext.StrategyVolumes && len(replaced) > 0 {
			return nil, fmt.Errorf("%w: service %s excludes %s from its backups by pattern, and a restore replaces those paths too: only the rollback volume keeps their current content (restore without --no-rollback)",
				ErrRefused, svc.Name, strings.Join(replaced, ", "))
		}
		snap, err := findSnapshot(ctx, env.Runner, env.Identity, t, loc)
		if err != nil {
			return nil, fmt.Errorf("restoring %s: %w", svc.Name, err)
		}
		job := Job{Service: svc, Snapshot: snap, To: opts.To}
		if err := job.check(); err != nil {
			return nil, fmt.Errorf("restoring %s: snapshot %s: %w", svc.Name, snap.ShortID, err)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// check refuses a snapshot that does not fit the service's declaration.
func (j *Job) check() error {
	if st := j.Snapshot.Tag("strategy"); st != "" && st != string(j.Service.Strategy) {
		return snapshotErrorf("it was made with strategy %s, the service now declares %s", st, j.Service.Strategy)
	}
	switch j.Service.Strategy {
	case composeext.StrategyDump:
		if len(j.Snapshot.Paths) != 1 {
			return snapshotErrorf("want one dump file, it holds %v", j.Snapshot.Paths)
		}
		j.DumpPath = j.Snapshot.Paths[0]
	case composeext.StrategyVolumes:
		for _, m := range j.Service.Volumes {
			if !slices.Contains(j.Snapshot.Paths, m.Path) {
				return snapshotErrorf("it holds no copy of %s (%s); it holds %v", m.Key, m.Path, j.Snapshot.Paths)
			}
		}
	}
	return nil
}

// Run restores the jobs one after the other, within env.Run, and stops at the first
// failure, so a set of services is never left restored in part without saying so.
// Every volume restore's preflight runs first, before any service is stopped: a target
// that cannot be restored stops the run before the first one changes anything.
func Run(ctx context.Context, env Env, jobs []Job, opts Options) []report.Result {
	if env.Place != nil {
		return runStack(ctx, env, jobs, opts)
	}
	ready := make([]*prepared, len(jobs))
	defer func() {
		for _, p := range ready {
			p.remove(ctx, env)
		}
	}()
	for i, job := range jobs {
		if job.Service.Strategy != composeext.StrategyVolumes || job.To != "" {
			continue
		}
		// Only the first job, which no earlier job's swap precedes, checks in its restore's helper.
		p, err := prepareVolumes(ctx, env, job, i == 0)
		ready[i] = p
		if err != nil {
			env.Reporter.Start(job)
			res := report.Result{Service: job.Service.Name, Strategy: string(job.Service.Strategy), Snapshot: job.Snapshot.ID,
				Status: report.StatusFailed, Err: err}
			env.Reporter.Done(res)
			return []report.Result{res}
		}
	}
	return runEach(ctx, env, jobs, func(i int, job Job, res *report.Result) error {
		switch job.Service.Strategy {
		case composeext.StrategyVolumes:
			return restoreVolumes(ctx, env, job, ready[i], opts, res)
		case composeext.StrategyDump:
			return restoreDump(ctx, env, job, res)
		}
		return fmt.Errorf("unknown strategy %q", job.Service.Strategy)
	})
}

// runEach restores the jobs one after the other with restoreOne (i is the job's
// index), each reported as it starts and ends, and stops at the first failure or
// when ctx ends.
func runEach(ctx context.Context, env Env, jobs []Job, restoreOne func(i int, job Job, res *report.Result) error) []report.Result {
	var results []report.Result
	for i, job := range jobs {
		env.Reporter.Start(job)
		start := time.Now()
		res := report.Result{Service: job.Service.Name, Strategy: string(job.Service.Strategy), Snapshot: job.Snapshot.ID}
		res.Err = restoreOne(i, job, &res)
		res.Duration = time.Since(start)
		res.Status = report.StatusOK
		if res.Err != nil {
			res.Status = report.StatusFailed
		}
		env.Reporter.Done(res)
		results = append(results, res)
		if res.Err != nil || ctx.Err() != nil {
			break
		}
	}
	return results
}

// Failed returns the first failed result's error, or nil.
func Failed(results []report.Result) error {
	for _, r := range results {
		if r.Err != nil {
			return fmt.Errorf("restoring %s: %w", r.Service, r.Err)
		}
	}
	return nil
}

// ErrRefused is a restore refused as asked (its options would lose data), before
// anything was done.
var ErrRefused = errors.New("--no-rollback refused")

// errVerify is a restore whose result does not match the snapshot.
var errVerify = errors.New("verification failed")
