package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/notify"
	"github.com/docker-backup/docker-backup/internal/report"
)

// runNotifier tells x-backup.notify and x-backup.healthcheck how up's run went; nil
// (with --no-notify, or nothing to tell) does nothing.
type runNotifier struct {
	n *notify.Notifier
}

// newRunNotifier builds the plan's notifier; warn gets the notices that could not be
// sent.
func newRunNotifier(plan *composeext.Plan, disabled bool, warn func(string)) *runNotifier {
	if disabled || (len(plan.Notify) == 0 && plan.Healthcheck == nil) {
		return nil
	}
	return &runNotifier{n: notify.New(notify.Config{Targets: plan.Notify, Healthcheck: plan.Healthcheck}, notify.Options{Warn: warn, Mask: plan.Mask})}
}

// newAlertNotifier sends the plan's alerts but no healthcheck ping: for the commands
// besides up (check, prune, verify), whose outcome the healthcheck, which says whether
// backups happen, must not take for a backup's.
func newAlertNotifier(plan *composeext.Plan, disabled bool, warn func(string)) *runNotifier {
	quiet := *plan
	quiet.Healthcheck = nil
	return newRunNotifier(&quiet, disabled, warn)
}

// start sends the healthcheck's start ping.
func (r *runNotifier) start(ctx context.Context) {
	if r != nil {
		r.n.Start(ctx)
	}
}

// done sends the run's notices and the healthcheck's closing ping. A run whose context
// was cancelled is interrupted, not failed (backupPlan has said which services were
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

// notifyLines shows the notify targets and healthcheck pings of a masked plan, for
// plan's table.
func notifyLines(plan *composeext.Plan) (notices []string, pings string) {
	for _, t := range plan.Notify {
		on := make([]string, len(t.On))
		for i, e := range t.On {
			on[i] = string(e)
		}
		notices = append(notices, fmt.Sprintf("%s (%s) on %s", t.Display, t.Service, strings.Join(on, ", ")))
	}
	if hc := plan.Healthcheck; hc != nil {
		var parts []string
		for _, p := range []struct {
			name string
			ping *notify.Ping
		}{{"start", hc.Start}, {"success", hc.Success}, {"failure", hc.Failure}} {
			if p.ping != nil {
				parts = append(parts, p.name+" "+p.ping.Display)
			}
		}
		pings = strings.Join(parts, ", ")
	}
	return notices, pings
}
