package app

import (
	"context"
	"sync"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
)

// scheduledEvents are a scheduled up's events on their way to its view. It notes which
// services began and which were settled before the run's context ended, so that a run
// stopped by SIGTERM reports each service as interrupted or skipped (report.Interrupt),
// not as failed with a cancelled context's raw error; and it writes each start and
// outcome to the scheduler's state as they come, so that a scheduler killed mid-run
// leaves which services were under way for its next start (scheduler.recover).
type scheduledEvents struct {
	inner Sink
	ctx   context.Context
	plan  *composeext.Plan
	sc    *scheduler

	mu             sync.Mutex
	began, settled map[string]bool
}

func newScheduledEvents(ctx context.Context, inner Sink, plan *composeext.Plan, sc *scheduler) *scheduledEvents {
	return &scheduledEvents{inner: inner, ctx: ctx, plan: plan, sc: sc, began: map[string]bool{}, settled: map[string]bool{}}
}

// Event records a service that starts before the stop (one that would start after it
// does nothing worth a line), and passes on an outcome settled before the stop; after
// it, a service that had begun is one line, "files: interrupted", and one that had not
// is none.
func (r *scheduledEvents) Event(e Event) {
	switch e.Kind {
	case Started:
		if r.ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		r.began[e.Service] = true
		r.mu.Unlock()
		r.sc.warn(r.sc.tracker.ServiceStarted(e.Service))
	case Done:
		res := e.Result
		if r.ctx.Err() != nil && res.Status != report.StatusSkipped {
			if r.hasBegun(res.Service) {
				r.sc.log.printf("%s: interrupted", res.Service)
			}
			return
		}
		r.mu.Lock()
		r.settled[res.Service] = true
		r.mu.Unlock()
		if res.Status != report.StatusSkipped {
			r.sc.warn(r.sc.tracker.ServiceDone(res.Report()))
		}
	}
	r.inner.Event(e)
}

func (r *scheduledEvents) hasBegun(svc string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.began[svc]
}

func (r *scheduledEvents) hasSettled(svc string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.settled[svc]
}

// interrupt makes rep the outcome of a stopped run: the plan's services that have no
// outcome at all (the run was stopped before it began) are not begun too.
func (r *scheduledEvents) interrupt(rep *report.Run) {
	if len(rep.Services) == 0 {
		for _, svc := range r.plan.Services {
			if svc.Strategy != composeext.StrategyNone {
				rep.Services = append(rep.Services, report.Service{Service: svc.Name, Strategy: string(svc.Strategy), Status: report.StatusFailed})
			}
		}
	}
	report.Interrupt(rep, r.hasBegun, r.hasSettled)
}
