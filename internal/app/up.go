package app

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/restic"
)

// UpOptions are what up is asked to do.
type UpOptions struct {
	Load     composeext.LoadOptions
	Services []string
	// Parallel is how many services are backed up at once; 0: the plan's.
	Parallel int
	NoForget bool
	// NoNotify sends no alerts and no healthcheck pings.
	NoNotify bool
	// Strict fails the command when some files could not be read.
	Strict bool
	Run    RunSettings
	// MetricsFile, when set, gets the outcome as Prometheus metrics.
	MetricsFile string
	// scheduler, when set, is the scheduler that runs this up: the services' starts and
	// outcomes go to its state, its metrics record the run, and a stop (SIGTERM) tells
	// the services under way from those not begun.
	scheduler *scheduler
}

// Up backs up the plan's services in one run and returns how it ended. The services'
// events, and the run's end, go to sink; alerts, metrics and the scheduler's state read
// them too. A service's failure is in its result and makes the returned error; the
// others still run.
func (a *App) Up(ctx context.Context, opts UpOptions, sink Sink) (report.Run, error) {
	started := time.Now()
	plan, err := LoadPlan(ctx, opts.Load, opts.Services)
	if err != nil {
		return failedRun("up", opts.Load.ProjectName, started, err), err
	}
	alerts := newRunNotifier(ctx, plan, opts.NoNotify, WarnFunc(sink))
	alerts.Event(Event{Kind: RunBegan})
	view, interrupt := sink, func(*report.Run) {}
	metrics := newMetricsFile(opts.MetricsFile, warnTo(a.notes()))
	// Alerts before the view: a live terminal's warnings are drawn above the summary.
	end := Tee(alerts, sink, metrics)
	if sc := opts.scheduler; sc != nil {
		tracked := newScheduledEvents(ctx, sink, plan, sc)
		view, interrupt = tracked, tracked.interrupt
		metrics = sc.metrics.repository()
		// Unlike --metrics-file, the scheduler's metrics record an interrupted run too.
		record := SinkFunc(func(e Event) { sc.metrics.record(*e.Run, metrics) })
		end = Tee(alerts, record, sink)
	}
	results, rep, err := a.backupPlan(ctx, plan, opts, view, metrics)
	if ctx.Err() != nil {
		// Stopped (SIGTERM, Ctrl-C): interrupted and skipped, not failed; no summary.
		interrupt(&rep)
	}
	ended(ctx, end, rep, results, err)
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	if err != nil {
		return rep, err
	}
	var failed, warned []string
	for _, r := range results {
		switch r.Status {
		case report.StatusFailed:
			failed = append(failed, r.Service)
		case report.StatusWarning:
			warned = append(warned, r.Service)
		}
	}
	switch {
	case len(failed) > 0:
		return rep, fmt.Errorf("backup failed for %s", strings.Join(failed, ", "))
	case opts.Strict && len(warned) > 0:
		return rep, fmt.Errorf("some files could not be read for %s (--strict)", strings.Join(warned, ", "))
	}
	return rep, nil
}

// backupPlan backs up the plan's services in one run and says how it ended; gather,
// when not nil, gets what the run finds of the repository. err is the command's own
// failure (no run could begin), masked; a service's failure is in its result.
func (a *App) backupPlan(ctx context.Context, plan *composeext.Plan, opts UpOptions, sink Sink, gather *metricsFile) ([]report.Result, report.Run, error) {
	rep := report.Run{Command: "up", Project: plan.Project, Started: time.Now()}
	// Every line up shows, on the console, in --json or in the scheduler's log, is masked.
	events := backupEvents{sink: sink, mask: plan.Mask}
	raw, err := a.backupServices(ctx, plan, opts, events, &rep, gather)
	var results []report.Result
	if raw != nil {
		results = maskedAll(raw, plan.Mask)
	}
	err = maskError(err, plan.Mask)
	finishReport(&rep, results, err, plan.Mask)
	return results, rep, err
}

// backupServices connects, begins the run and backs up; rep gets the machine's name.
func (a *App) backupServices(ctx context.Context, plan *composeext.Plan, opts UpOptions, events backupEvents, rep *report.Run, gather *metricsFile) ([]report.Result, error) {
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = plan.Parallel
	}
	stack, info, err := a.checkStack(ctx, plan, "up", events.Warn)
	if err != nil {
		return nil, err
	}
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	mounts := backup.RunMounts(plan)
	if stack != nil {
		// One series for the stack, whichever node runs its tasks; the volumes are the
		// nodes', never mounted by the run's host on the manager.
		s.identity = run.IdentifyStack(plan.Project, plan.Host, info.Swarm.ClusterID)
		mounts = nil
	}
	rep.Machine = s.identity.Machine
	// Before any goroutine shares the plan: what the services' containers hold is masked
	// too.
	if stack != nil {
		addStackSecrets(stack, plan)
	} else {
		addContainerSecrets(ctx, s.api, plan)
	}
	// Only the default local repository is created on first use (see repository).
	r, err := s.begin(ctx, plan, "up", opts.Run, beginOptions{initLocal: plan.Repository.Default, mounts: mounts, stack: stack != nil, overlap: stack == nil}, events.Warn)
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	env := backup.Env{Run: r, Plan: plan, Reporter: events}
	if stack != nil {
		if len(r.Restarted()) > 0 {
			// Recovery scaled back services a dead run had left at 0: they have tasks
			// again, and so nodes.
			if stack, err = engine.FindStack(ctx, s.api, plan.Project); err != nil || stack == nil {
				return nil, cmp.Or(err, fmt.Errorf("stack %s: no service left after recovery", plan.Project))
			}
		}
		env.Place = stackPlacements(stack, r.Runner)
	}
	results := backup.Up(ctx, env, backup.Options{
		Parallel: parallel,
		NoForget: opts.NoForget,
	})
	if err := r.Opened(ctx); err != nil && ctx.Err() == nil {
		// The opening went on beside the backups and failed: nothing was stopped, no
		// hook ran, and nothing of the services was shown.
		return nil, err
	}
	gather.gather(ctx, r.Runner, r.Identity, events.Warn)
	return results, nil
}

// backupEvents turns package backup's reports into events, masked.
type backupEvents struct {
	sink Sink
	mask func(string) string
}

func (b backupEvents) Start(svc string, st composeext.Strategy) {
	b.sink.Event(Event{Kind: Started, Service: svc, Strategy: st})
}

func (b backupEvents) Progress(svc string, s restic.Status) {
	b.sink.Event(Event{Kind: Progress, Service: svc, Backup: &s})
}

func (b backupEvents) Done(r report.Result) {
	res := masked(r, b.mask)
	b.sink.Event(Event{Kind: Done, Service: r.Service, Strategy: composeext.Strategy(r.Strategy), Result: &res})
}

func (b backupEvents) Warn(msg string) { b.sink.Event(Event{Kind: Warning, Message: b.mask(msg)}) }

// LoadPlan loads the compose project, resolves its backup plan and narrows it to the
// named services (all when none are named).
func LoadPlan(ctx context.Context, opts composeext.LoadOptions, services []string) (*composeext.Plan, error) {
	plan, err := composeext.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	return plan.Select(services)
}
