package plugin

import (
	"context"
	"sync"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/report"
)

// scheduledReporter is up's reporter as the scheduler runs it. It notes which services
// began and which were settled before the run's context ended, so that a run stopped
// by SIGTERM reports each service as interrupted or skipped (report.Interrupt), not as
// failed with a cancelled context's raw error; and it writes each start and outcome to
// the scheduler's state as they come, so that a scheduler killed mid-run leaves which
// services were under way for its next start (scheduleRecover).
type scheduledReporter struct {
	upReporter
	ctx  context.Context
	plan *composeext.Plan
	opts *scheduleOptions

	mu             sync.Mutex
	began, settled map[string]bool
}

func newScheduledReporter(ctx context.Context, inner upReporter, plan *composeext.Plan, opts *scheduleOptions) *scheduledReporter {
	return &scheduledReporter{upReporter: inner, ctx: ctx, plan: plan, opts: opts, began: map[string]bool{}, settled: map[string]bool{}}
}

// Start records a service that begins before the stop; one that would begin after it
// does nothing worth a line.
func (r *scheduledReporter) Start(svc string, st composeext.Strategy) {
	if r.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	r.began[svc] = true
	r.mu.Unlock()
	r.opts.warn(r.opts.tracker.ServiceStarted(svc))
	r.upReporter.Start(svc, st)
}

// Done passes on an outcome settled before the stop; after it, a service that had
// begun is one line, "files: interrupted", and one that had not is none.
func (r *scheduledReporter) Done(res backup.Result) {
	if r.ctx.Err() == nil || res.Status == backup.StatusSkipped {
		r.mu.Lock()
		r.settled[res.Service] = true
		r.mu.Unlock()
		if res.Status != backup.StatusSkipped {
			r.opts.warn(r.opts.tracker.ServiceDone(backup.Report([]backup.Result{res}, r.plan.Mask)[0]))
		}
		r.upReporter.Done(res)
		return
	}
	if r.hasBegun(res.Service) {
		r.opts.log.printf("%s: interrupted", res.Service)
	}
}

func (r *scheduledReporter) hasBegun(svc string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.began[svc]
}

func (r *scheduledReporter) hasSettled(svc string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.settled[svc]
}

// interrupt makes rep the outcome of a stopped run: the plan's services that have no
// outcome at all (the run was stopped before it began) are not begun too.
func (r *scheduledReporter) interrupt(rep *report.Run) {
	if len(rep.Services) == 0 {
		for _, svc := range r.plan.Services {
			if svc.Strategy != composeext.StrategyNone {
				rep.Services = append(rep.Services, report.Service{Service: svc.Name, Strategy: string(svc.Strategy), Status: report.StatusFailed})
			}
		}
	}
	report.Interrupt(rep, r.hasBegun, r.hasSettled)
}
