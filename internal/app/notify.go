package app

import (
	"context"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/notify"
	"github.com/docker-backup/docker-backup/internal/report"
)

// runNotifier tells x-backup.notify and x-backup.healthcheck how up's run went; nil
// (with --no-notify, or nothing to tell) does nothing.
type runNotifier struct {
	n *notify.Notifier
	// ctx is the command's: ended, the run is interrupted.
	ctx context.Context
}

// newRunNotifier builds the plan's notifier; warn gets the notices that could not be
// sent.
func newRunNotifier(ctx context.Context, plan *composeext.Plan, disabled bool, warn func(string)) *runNotifier {
	if disabled || (len(plan.Notify) == 0 && plan.Healthcheck == nil) {
		return nil
	}
	return &runNotifier{n: notify.New(notify.Config{Targets: plan.Notify, Healthcheck: plan.Healthcheck}, notify.Options{Warn: warn, Mask: plan.Mask}), ctx: ctx}
}

// newAlertNotifier sends the plan's alerts but no healthcheck ping: for the commands
// besides up (check, prune, verify), whose outcome the healthcheck, which says whether
// backups happen, must not take for a backup's.
func newAlertNotifier(ctx context.Context, plan *composeext.Plan, disabled bool, warn func(string)) *runNotifier {
	quiet := *plan
	quiet.Healthcheck = nil
	return newRunNotifier(ctx, &quiet, disabled, warn)
}

// Event sends the start ping as the run begins, and the notices as it ends.
func (r *runNotifier) Event(e Event) {
	switch {
	case r == nil:
	case e.Kind == RunBegan:
		r.n.Start(r.ctx)
	case e.Kind == Ended:
		r.done(r.ctx, *e.Run)
	}
}

// done sends the run's notices and the healthcheck's closing ping. A run whose context
// was cancelled is interrupted, not failed (the scheduler has said which services were
// under way); one that did not say so yet is made so here.
func (r *runNotifier) done(ctx context.Context, rep report.Run) {
	if r == nil {
		return
	}
	if ctx.Err() != nil && rep.Status != report.StatusInterrupted {
		interrupted(&rep)
	}
	r.n.Done(ctx, rep)
}

// interrupted makes rep the outcome of a command stopped before its end, when which
// services had begun is not known: those with an outcome other than failed keep it,
// the others count as under way.
func interrupted(rep *report.Run) {
	report.Interrupt(rep, func(string) bool { return true }, func(svc string) bool {
		for _, s := range rep.Services {
			if s.Service == svc {
				return s.Status != report.StatusFailed
			}
		}
		return false
	})
}
