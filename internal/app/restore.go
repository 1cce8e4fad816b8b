package app

import (
	"context"
	"errors"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/restic"
)

// RestoreOptions are what restore is asked to do.
type RestoreOptions struct {
	Load composeext.LoadOptions
	// Targets are the services to restore, each with its snapshot selector.
	Targets []restore.Target
	// To restores into this volume (volumes) or service (dump) instead.
	To         string
	NoRollback bool
	// DryRun returns the steps (Restore's first result) and changes nothing.
	DryRun bool
	Run    RunSettings
	// Confirm, when set, is asked before anything changes, with what each job will do;
	// false cancels (ErrDeclined).
	Confirm func(what []string) (bool, error)
}

// ParseTargets reads restore's SERVICE[@SNAPSHOT] arguments; a restore --to takes one.
func ParseTargets(args []string, to string) ([]restore.Target, error) {
	if to != "" && len(args) > 1 {
		return nil, usageErrorf("--to restores one service, not %d", len(args))
	}
	var out []restore.Target
	for _, a := range args {
		t, err := restore.ParseTarget(a)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// ErrDeclined is a restore that Confirm declined: nothing was changed.
var ErrDeclined = errors.New("restore cancelled: nothing was changed")

// Restore restores each target service from its snapshot, one after the other. With
// DryRun it returns the steps it would take. A service's failure is in its Done event
// and makes the returned error.
func (a *App) Restore(ctx context.Context, opts RestoreOptions, sink Sink) (steps []string, err error) {
	var names []string
	for _, t := range opts.Targets {
		names = append(names, t.Service)
	}
	plan, err := LoadPlan(ctx, opts.Load, names)
	if err != nil {
		return nil, err
	}
	defer func() { err = maskError(err, plan.Mask) }()
	if err := a.refuseStack(ctx, plan.Project, "restore", WarnFunc(sink)); err != nil {
		return nil, err
	}
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	addContainerSecrets(ctx, s.api, plan)
	events := restoreEvents{sink: sink, mask: plan.Mask}
	env := restore.Env{API: s.api, Runner: s.runner, Identity: s.identity, Plan: plan, Reporter: events}
	ropts := restore.Options{To: opts.To, NoRollback: opts.NoRollback}
	jobs, err := restore.Prepare(ctx, env, opts.Targets, ropts)
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		for _, j := range jobs {
			steps = append(steps, j.Steps(ropts)...)
		}
		return steps, nil
	}
	if opts.Confirm != nil {
		var what []string
		for _, j := range jobs {
			what = append(what, j.Describe())
		}
		ok, err := opts.Confirm(what)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrDeclined
		}
	}
	r, err := s.begin(ctx, plan, "restore", opts.Run, beginOptions{listed: true}, WarnFunc(sink))
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	env.Run = r
	results := restore.Run(ctx, env, jobs, ropts)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := restore.Failed(results); err != nil {
		// A failed restore exits 1 whatever its cause: the cause's own kind (a refusal,
		// an invalid setting) was the service's, not the command's.
		return nil, errors.New(err.Error())
	}
	return nil, nil
}

// restoreEvents turns package restore's reports into events, masked.
type restoreEvents struct {
	sink Sink
	mask func(string) string
}

func (r restoreEvents) Start(job restore.Job) {
	snap := job.Snapshot
	r.sink.Event(Event{Kind: Started, Service: job.Service.Name, Strategy: job.Service.Strategy, Snapshot: &snap})
}

func (r restoreEvents) Step(svc, msg string) {
	r.sink.Event(Event{Kind: Step, Service: svc, Message: r.mask(msg)})
}

func (r restoreEvents) Progress(svc string, s restic.RestoreStatus) {
	r.sink.Event(Event{Kind: Progress, Service: svc, Restore: &s})
}

func (r restoreEvents) Done(res report.Result) {
	out := masked(res, r.mask)
	r.sink.Event(Event{Kind: Done, Service: res.Service, Strategy: composeext.Strategy(res.Strategy), Result: &out})
}
