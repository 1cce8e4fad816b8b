package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/verify"
)

// VerifyOptions are what verify, the restore drill, is asked to do.
type VerifyOptions struct {
	Load     composeext.LoadOptions
	Services []string
	// From drills the snapshots of this copy repository (x-backup.copies) instead of
	// the primary's.
	From     string
	Drill    verify.Options
	NoNotify bool
	Run      RunSettings
	// MetricsFile, when set, gets the outcome as Prometheus metrics.
	MetricsFile string
}

// Verify drills the plan's services and returns their results in plan order (also in
// the Ended event), nil when the drill could not run to its end. Alerts and metrics
// read the events; a failed drill makes the returned error, with the results.
func (a *App) Verify(ctx context.Context, opts VerifyOptions, sink Sink) ([]report.Result, error) {
	plan, err := LoadPlan(ctx, opts.Load, opts.Services)
	if err != nil {
		return nil, err
	}
	if _, err := fromCopy(plan, opts.From); err != nil {
		// Bad input, as a missing service is: no alert, no metrics.
		return nil, err
	}
	results, rep, err := a.verifyPlan(ctx, plan, opts, sink)
	if !errors.Is(err, verify.ErrInput) {
		metrics := newMetricsFile(opts.MetricsFile, WarnFunc(sink))
		if metrics != nil {
			metrics.interrupted = true
		}
		ended(ctx, Tee(newAlertNotifier(ctx, plan, opts.NoNotify, WarnFunc(sink)), sink, metrics), rep, results, err)
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, verify.ErrInput):
		return nil, usageErrorf("%s", plan.Mask(err.Error()))
	case err != nil:
		return nil, maskError(err, plan.Mask)
	}
	var failed []string
	for _, r := range results {
		if r.Status == report.StatusFailed {
			failed = append(failed, r.Service)
		}
	}
	if len(failed) > 0 {
		return results, errors.New("verify failed for " + strings.Join(failed, ", "))
	}
	return results, nil
}

// verifyPlan runs the drill within a run of the project and says how it went.
func (a *App) verifyPlan(ctx context.Context, plan *composeext.Plan, opts VerifyOptions, sink Sink) ([]report.Result, report.Run, error) {
	rep := report.Run{Command: report.CommandVerify, Project: plan.Project, From: opts.From, Started: time.Now()}
	raw, err := a.verifyServices(ctx, plan, opts, verifyEvents{sink: sink, mask: plan.Mask}, &rep)
	results := maskedAll(raw, plan.Mask)
	finishReport(&rep, results, err, plan.Mask)
	return results, rep, err
}

func (a *App) verifyServices(ctx context.Context, plan *composeext.Plan, opts VerifyOptions, events verifyEvents, rep *report.Run) ([]report.Result, error) {
	stack, info, err := a.checkStack(ctx, plan, report.CommandVerify, WarnFunc(events.sink))
	if err != nil {
		return nil, err
	}
	fromPlan, err := fromCopy(plan, opts.From)
	if err != nil {
		return nil, err
	}
	plan = fromPlan
	if stack != nil {
		if err := copyStackNeeds(plan, opts.From); err != nil {
			return nil, err
		}
	}
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	if stack != nil {
		// The stack's one series; the drill runs on the manager's engine, which reaches
		// the repository (checkStack) and needs none of the nodes' volumes.
		s.identity = run.IdentifyStack(plan.Project, plan.Host, info.Swarm.ClusterID)
	}
	rep.Machine = s.identity.Machine
	addContainerSecrets(ctx, s.api, plan)
	env := verify.Env{API: s.api, Runner: s.runner, Identity: s.identity, Plan: plan, Reporter: events, Stack: stack != nil}
	jobs, err := verify.Prepare(ctx, env, opts.Services, opts.Drill)
	if err != nil {
		return nil, err
	}
	r, err := s.begin(ctx, plan, report.CommandVerify, opts.Run, beginOptions{listed: true, stack: stack != nil}, warnTo(a.notes()))
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	env.Run = r
	return verify.Run(ctx, env, jobs, opts.Drill), nil
}

// verifyEvents turns package verify's reports into events, masked.
type verifyEvents struct {
	sink Sink
	mask func(string) string
}

func (v verifyEvents) Step(svc, msg string) {
	v.sink.Event(Event{Kind: Step, Service: svc, Message: v.mask(msg)})
}

func (v verifyEvents) Done(r report.Result) {
	res := masked(r, v.mask)
	v.sink.Event(Event{Kind: Done, Service: r.Service, Strategy: composeext.Strategy(r.Strategy), Result: &res})
}
