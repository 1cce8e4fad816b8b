package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/copies"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
)

// CopyOptions are what copy is asked to do.
type CopyOptions struct {
	Load composeext.LoadOptions
	// Names are the copy repositories to fill (x-backup.copies' keys); none: all.
	Names []string
	// AllHosts copies every machine's series of the project, not only this machine's.
	AllHosts bool
	// NoNotify sends no alerts.
	NoNotify bool
	Run      RunSettings
}

// Copy fills the plan's copy repositories (all, or those named) with the project's
// confirmed snapshots, in one run of the project, and applies each one's retention.
// Each copy's outcome goes to sink as a Done event (Service: the copy's name); a copy
// that fails makes the returned error, and the others still run. Alerts read the
// events; the healthcheck, which says whether backups happen, is not pinged.
func (a *App) Copy(ctx context.Context, opts CopyOptions, sink Sink) (report.Run, error) {
	started := time.Now()
	plan, err := LoadPlan(ctx, opts.Load, nil)
	if err != nil {
		return failedRun(report.CommandCopy, opts.Load.ProjectName, started, err), err
	}
	chosen, err := chooseCopies(plan, opts.Names)
	if err != nil {
		return failedRun(report.CommandCopy, plan.Project, started, err), err
	}
	rep := report.Run{Command: report.CommandCopy, Project: plan.Project, Started: started}
	events := copyEvents{sink: sink, mask: plan.Mask}
	raw, err := a.copyAll(ctx, plan, chosen, opts, events, &rep)
	results := maskedAll(raw, plan.Mask)
	err = maskError(err, plan.Mask)
	finishReport(&rep, results, err, plan.Mask)
	if ctx.Err() != nil {
		rep.Status = report.StatusInterrupted
	}
	ended(ctx, Tee(newAlertNotifier(ctx, plan, opts.NoNotify, WarnFunc(sink)), sink), rep, results, err)
	switch {
	case ctx.Err() != nil:
		return rep, ctx.Err()
	case err != nil:
		return rep, err
	}
	var failed []string
	for _, r := range results {
		if r.Status == report.StatusFailed || r.Status == report.StatusInterrupted {
			failed = append(failed, r.Service)
		}
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("copy failed for %s", strings.Join(failed, ", "))
	}
	return rep, nil
}

// chooseCopies are the plan's copies named (all when none is), in the plan's order.
func chooseCopies(plan *composeext.Plan, names []string) ([]composeext.CopyPlan, error) {
	if len(plan.Copies) == 0 {
		return nil, usageErrorf("%s", plan.KeyLine("x-backup.copies", "no copy repository is declared (want copies: {NAME: {repository: …, password_file: …}})"))
	}
	if len(names) == 0 {
		return plan.Copies, nil
	}
	for _, n := range names {
		if _, ok := plan.Copy(n); !ok {
			return nil, usageErrorf("no copy repository named %q in x-backup.copies (there are: %s)", n, strings.Join(plan.CopyNames(), ", "))
		}
	}
	var out []composeext.CopyPlan
	for _, c := range plan.Copies {
		if slices.Contains(names, c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// copyAll connects, begins the run and fills the copies; rep gets the machine's name.
func (a *App) copyAll(ctx context.Context, plan *composeext.Plan, chosen []composeext.CopyPlan, opts CopyOptions, events copyEvents, rep *report.Run) ([]report.Result, error) {
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	rep.Machine = s.identity.Machine
	// A run of the project: no backup or restore of it meanwhile, and what dead runs
	// left (a killed copy's helpers among them) is recovered first.
	r, err := s.begin(ctx, plan, report.CommandCopy, opts.Run, beginOptions{}, events.Warn)
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	targets := make([]copies.Target, 0, len(chosen))
	for _, c := range chosen {
		targets = append(targets, a.copyTarget(ctx, r.Runner, c))
	}
	return copies.Run(ctx, copies.Env{
		Source: r.Runner, Identity: r.Identity, AllHosts: opts.AllHosts,
		Services: plan.Services, Reporter: events,
	}, targets)
}

// copyTarget prepares one copy repository: its password read, a runner of the run that
// also reads the primary. What goes wrong is the copy's failure, not the run's.
func (a *App) copyTarget(ctx context.Context, source *helper.Runner, c composeext.CopyPlan) copies.Target {
	t := copies.Target{Copy: c, From: helper.FromRepository}
	repo, err := openRepository(ctx, c.Repository, a.notes())
	if err != nil {
		t.Err = fmt.Errorf("copy repository %s: %w", c.Repository.Where(), unwrapInvalid(err))
		return t
	}
	runner, err := source.CopyRunner(repo)
	if err != nil {
		t.Err = fmt.Errorf("copy repository %s: %w", c.Repository.Where(), err)
		return t
	}
	t.Runner = runner
	return t
}

// unwrapInvalid keeps a copy's password problem from reading as the whole
// configuration's (exit code 2): it is one copy's failure.
func unwrapInvalid(err error) error {
	if errors.Is(err, composeext.ErrInvalid) {
		return errors.New(strings.TrimPrefix(err.Error(), composeext.ErrInvalid.Error()+": "))
	}
	return err
}

// copyEvents turns package copies' reports into events, masked: a copy is told as a
// service is (Service: the copy's name, Strategy: copy).
type copyEvents struct {
	sink Sink
	mask func(string) string
}

func (c copyEvents) Start(name string) {
	c.sink.Event(Event{Kind: Started, Service: name, Strategy: report.StrategyCopy})
}

func (c copyEvents) Step(name, msg string) {
	c.sink.Event(Event{Kind: Step, Service: name, Message: c.mask(msg)})
}

func (c copyEvents) Done(r report.Result) {
	res := masked(r, c.mask)
	c.sink.Event(Event{Kind: Done, Service: r.Service, Strategy: report.StrategyCopy, Result: &res})
}

func (c copyEvents) Warn(msg string) { c.sink.Event(Event{Kind: Warning, Message: c.mask(msg)}) }
