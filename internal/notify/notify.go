// Package notify tells people and monitors how a run ended: alerts to the targets of
// x-backup.notify (generic webhooks get JSON, other URLs go through shoutrrr) and the
// dead-man's-switch pings of x-backup.healthcheck. A notice that cannot be sent is a
// warning, never a failure of the run.
package notify

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
)

// DefaultTimeout bounds each send when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options are a Notifier's dependencies.
type Options struct {
	// Warn receives one line, masked, for each notice that could not be sent; nil
	// drops them.
	Warn func(string)
	// HTTPClient sends webhooks and pings; nil: a client of its own.
	HTTPClient *http.Client
	// Timeout bounds each send (default DefaultTimeout).
	Timeout time.Duration
	// Mask hides the plan's secrets in what is sent and warned (composeext.Plan.Mask);
	// nil masks nothing.
	Mask func(string) string
}

// Notifier sends a plan's notices and pings.
type Notifier struct {
	cfg  Config
	opts Options
}

// New returns a Notifier for x-backup.notify and x-backup.healthcheck.
func New(cfg Config, opts Options) *Notifier {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if opts.Mask == nil {
		opts.Mask = func(s string) string { return s }
	}
	return &Notifier{cfg: cfg, opts: opts}
}

// Start sends the healthcheck's start ping, if there is one.
func (n *Notifier) Start(ctx context.Context) {
	if hc := n.cfg.Healthcheck; hc != nil && hc.Start != nil {
		n.ping(ctx, "start", hc.Start, "")
	}
}

// Done sends the run's notices to every target that wants them, then the healthcheck's
// closing ping: success when the run ended ok or with warnings, failure when it failed.
// An interrupted run (stopped, not failed) sends no failure ping: with a
// healthchecks.io-style base URL it is told to the check's log (base/log, which keeps
// the summary and changes no state), else nothing; a run that never ends is what a
// dead-man's switch notices by itself. Done returns when all were sent or given up.
func (n *Notifier) Done(ctx context.Context, run report.Run) {
	run = masked(run, n.opts.Mask)
	notices := Notices(run)
	var wg sync.WaitGroup
	for _, t := range n.cfg.Targets {
		var mine []Notice
		for _, nt := range notices {
			if e, ok := event(nt); ok && t.Notifies(e) {
				mine = append(mine, nt)
			}
		}
		if len(mine) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.send(ctx, t, mine)
		}()
	}
	wg.Wait()
	hc := n.cfg.Healthcheck
	if hc == nil {
		return
	}
	switch run.Status {
	case report.StatusFailed:
		if hc.Failure != nil {
			n.ping(ctx, "failure", hc.Failure, Summary(run))
		}
	case report.StatusInterrupted:
		if log := logPing(hc); log != nil {
			n.ping(ctx, "log", log, Summary(run))
		}
	default:
		if hc.Success != nil {
			n.ping(ctx, "success", hc.Success, Summary(run))
		}
	}
}

// logPing is healthchecks.io's log endpoint (base/log) when the pings follow its
// convention (failure is success's base/fail, as a base URL gives them); nil otherwise.
func logPing(hc *Healthcheck) *Ping {
	if hc.Success == nil || hc.Failure == nil {
		return nil
	}
	fail, err := withSuffix(hc.Success.URL, "/fail")
	if err != nil || fail != hc.Failure.URL {
		return nil
	}
	log, err := withSuffix(hc.Success.URL, "/log")
	if err != nil {
		return nil
	}
	return &Ping{URL: log, Display: hc.Success.Display}
}

// withSuffix puts suffix at the end of a URL's path, before its query, as a base URL's
// pings are made.
func withSuffix(raw, suffix string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/")+suffix, ""
	return u.String(), nil
}

// sendContext is ctx without its cancellation, bounded by the timeout: an interrupted
// run still reports that it was.
func (n *Notifier) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), n.opts.Timeout)
}

// warn sends a warning line with the plan's secrets masked.
func (n *Notifier) warn(msg string) { n.opts.Warn(n.opts.Mask(msg)) }

// event is the notify outcome of a notice: an interrupted one, or a service its
// interrupted run never began, is a failure's (a backup that should have happened did
// not); strategy none's skip has none.
func event(nt Notice) (Event, bool) {
	switch nt.Status {
	case report.StatusFailed, report.StatusInterrupted:
		return Failure, true
	case report.StatusOK:
		return Success, true
	case report.StatusWarning:
		return Warning, true
	case report.StatusSkipped:
		if nt.Error == report.NotBegun {
			return Failure, true
		}
	}
	return "", false
}
