package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// InitOutcome is what init did of one repository: Created, or it existed; Err (a
// copy's), it could not be created, and the others still are.
type InitOutcome struct {
	// Copy is the copy's name; empty for the primary repository.
	Copy, Where string
	Created     bool
	Err         error
}

// Init creates the project's repository, then its copy repositories (x-backup.copies)
// with its chunker parameters; each repository's outcome goes to told, in that order.
// A primary that cannot be created is the returned error; a copy that cannot is its
// outcome's Err, and makes the returned error once the others are done.
func (a *App) Init(ctx context.Context, load composeext.LoadOptions, told func(InitOutcome)) error {
	where, created, s, plan, err := a.initPrimary(ctx, load)
	if err != nil {
		return err
	}
	told(InitOutcome{Where: where, Created: created})
	var failed []string
	for _, c := range plan.Copies {
		out := a.initCopy(ctx, s, c)
		if out.Err != nil {
			out.Err = maskError(out.Err, plan.Mask)
			failed = append(failed, c.Name)
		}
		told(out)
	}
	if len(failed) > 0 {
		return fmt.Errorf("copy repository not created: %s", strings.Join(failed, ", "))
	}
	return nil
}

// initCopy creates a copy repository with the primary's chunker parameters, unless it
// exists: a folder of this machine is created first, as the primary's is.
func (a *App) initCopy(ctx context.Context, s *session, c composeext.CopyPlan) InitOutcome {
	ci := InitOutcome{Copy: c.Name, Where: c.Repository.Where()}
	r := c.Repository
	if r.Local && !r.OnEngine() {
		if err := os.MkdirAll(r.URL, 0o700); err != nil {
			ci.Err = fmt.Errorf("creating the repository folder: %w", err)
			return ci
		}
	}
	repo, err := openRepository(ctx, r, a.notes())
	if err != nil {
		ci.Err = unwrapInvalid(err)
		return ci
	}
	repo.CreateFolder = r.OnEngine()
	runner, err := s.runner.CopyRunner(repo)
	if err != nil {
		ci.Err = err
		return ci
	}
	exists, err := restic.Open(ctx, runner)
	if err == nil && !exists {
		err = restic.InitFrom(ctx, runner, helper.FromRepository)
		ci.Created = err == nil
	}
	if err != nil {
		ci.Err = fmt.Errorf("repository %s: %w", ci.Where, err)
	}
	return ci
}

// initPrimary creates the project's repository (Init), and returns the session that
// reached it.
func (a *App) initPrimary(ctx context.Context, load composeext.LoadOptions) (where string, created bool, s *session, plan *composeext.Plan, err error) {
	plan, err = LoadPlan(ctx, load, nil)
	if err != nil {
		return "", false, nil, nil, err
	}
	where = plan.Repository.Where()
	if plan.Repository.Local && !plan.Repository.OnEngine() {
		if err := os.MkdirAll(plan.Repository.URL, 0o700); err != nil {
			return where, false, nil, plan, fmt.Errorf("creating the repository folder: %w", err)
		}
	}
	s, err = a.connect(ctx, plan)
	if err != nil {
		return where, false, nil, plan, err
	}
	// A folder of a remote engine's host is created there, by the engine, when the
	// helpers mount it; restic then creates the repository inside it.
	s.runner.Repo.CreateFolder = plan.Repository.OnEngine()
	exists, err := restic.Open(ctx, s.runner)
	if err != nil {
		return where, false, s, plan, fmt.Errorf("repository %s: %w", where, err)
	}
	if exists {
		return where, false, s, plan, nil
	}
	if err := restic.Init(ctx, s.runner); err != nil {
		return where, false, s, plan, fmt.Errorf("repository %s: %w", where, err)
	}
	return where, true, s, plan, nil
}

// ForgetOptions are what forget is asked to do.
type ForgetOptions struct {
	Load     composeext.LoadOptions
	Services []string
	// Prune also removes the data no snapshot needs any more.
	Prune  bool
	DryRun bool
	Run    RunSettings
	// MetricsFile, when set, gets prune's outcome as Prometheus metrics.
	MetricsFile string
	// Out gets restic prune's own output.
	Out io.Writer
	// Forgotten gets what was done of each service (when the repository was found locked,
	// of those before), before any prune.
	Forgotten func([]Forgotten)
}

// Forgotten is what forget did of one service's snapshots.
type Forgotten struct {
	Service      string
	Keep, Remove int
}

// Forget applies each service's retention policy (and with Prune, prunes), in a run of
// the project.
func (a *App) Forget(ctx context.Context, opts ForgetOptions, sink Sink) error {
	if opts.Forgotten == nil {
		opts.Forgotten = func([]Forgotten) {}
	}
	plan, err := LoadPlan(ctx, opts.Load, opts.Services)
	if err != nil {
		return err
	}
	var todo []composeext.ServicePlan
	for _, s := range plan.Services {
		if s.Strategy != composeext.StrategyNone && !backup.KeepPolicy(s.Retention).Empty() {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return a.forgetWithoutPolicy(ctx, opts, plan, sink)
	}
	s, err := a.connect(ctx, plan)
	if err != nil {
		return err
	}
	// A run: retention must not see a dump that an interrupted run left unconfirmed.
	r, err := s.begin(ctx, plan, "forget", opts.Run, beginOptions{}, WarnFunc(sink))
	if err != nil {
		return err
	}
	defer r.End(ctx)
	if r.UnconfirmedLeft() {
		return fmt.Errorf("retention not applied: unconfirmed snapshots of an interrupted run are still in the repository and would be counted; run forget again once the repository is not locked")
	}
	var done []Forgotten
	for _, svc := range todo {
		groups, err := restic.Forget(ctx, r.Runner, restic.ForgetOptions{
			Filter: snapshot.ServiceFilter(r.Identity, svc.Name), GroupBy: snapshot.GroupBy,
			Keep: backup.KeepPolicy(svc.Retention), DryRun: opts.DryRun,
		})
		if errors.Is(err, restic.ErrLocked) {
			opts.Forgotten(done)
			// forget's whole job: exit 1, but say what was done and that nothing is
			// lost by waiting (up warns and goes on instead: its backups are made).
			return fmt.Errorf("retention of %s not applied (nor of the services after it; the next forget or up applies it): %w", svc.Name, err)
		}
		if err != nil {
			return fmt.Errorf("service %q: %w", svc.Name, err)
		}
		f := Forgotten{Service: svc.Name}
		for _, g := range groups {
			f.Keep += len(g.Keep)
			f.Remove += len(g.Remove)
		}
		done = append(done, f)
	}
	opts.Forgotten(done)
	if opts.Prune && !opts.DryRun {
		return a.prune(ctx, plan, r.Runner, r.Identity.Machine, opts)
	}
	return nil
}

// prune removes the data no snapshot needs and, with a metrics file, records how it
// ended as the prune command.
func (a *App) prune(ctx context.Context, plan *composeext.Plan, r restic.Runner, machine string, opts ForgetOptions) error {
	rep, err := commandRun(ctx, plan, "prune", func(rep *report.Run) error {
		rep.Machine = machine
		return restic.Prune(ctx, r, opts.Out)
	})
	ended(ctx, newMetricsFile(opts.MetricsFile, warnTo(a.notes())), rep, nil, err)
	return err
}

// CheckOptions are what check is asked to do.
type CheckOptions struct {
	Load composeext.LoadOptions
	// ReadData also reads this part of the data (restic's --read-data-subset).
	ReadData    string
	MetricsFile string
	// Out gets restic check's own output.
	Out io.Writer
}

// Check checks the repository's integrity; metrics read how it ended.
func (a *App) Check(ctx context.Context, opts CheckOptions, sink Sink) error {
	plan, err := LoadPlan(ctx, opts.Load, nil)
	if err != nil {
		return err
	}
	rep, err := commandRun(ctx, plan, "check", func(rep *report.Run) error {
		s, err := a.connect(ctx, plan)
		if err != nil {
			return err
		}
		rep.Machine = s.identity.Machine
		warnLeftovers(ctx, s.api, plan.Project, WarnFunc(sink))
		return restic.Check(ctx, s.runner, opts.ReadData, opts.Out)
	})
	ended(ctx, newMetricsFile(opts.MetricsFile, warnTo(a.notes())), rep, nil, err)
	return err
}

// commandRun runs fn, a command without services (check, prune), and says how it ended,
// as backupPlan does for up; fn may fill in what it learns (the machine).
func commandRun(ctx context.Context, plan *composeext.Plan, command string, fn func(rep *report.Run) error) (report.Run, error) {
	rep := report.Run{Command: command, Project: plan.Project, Started: time.Now()}
	err := fn(&rep)
	rep.Duration = time.Since(rep.Started)
	rep.Status = report.Overall(err, nil)
	if err != nil {
		rep.Error = plan.Mask(report.OneLine(err.Error()))
	}
	return rep, maskError(err, plan.Mask)
}

// warnTo prints warnings as "warning: …" lines.
func warnTo(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "warning: "+msg) }
}
