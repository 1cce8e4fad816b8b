package backup

import (
	"context"
	"sync"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/restic"
)

// gatedReporter holds what the services report while the run's opening goes on beside
// their backups (run.Options.Overlap), passes it on in order once the opening has
// proved the repository, and drops it if the opening failed: the command then ends
// with the opening's one line, as when the opening came first.
type gatedReporter struct {
	next Reporter
	mu   sync.Mutex
	// held are the calls made before the opening ended; open is true once they were
	// passed on, dropped once the opening failed.
	held    []func(Reporter)
	open    bool
	dropped bool
	done    chan struct{}
}

func newGatedReporter(ctx context.Context, next Reporter, r *run.Run) *gatedReporter {
	g := &gatedReporter{next: next, done: make(chan struct{})}
	go func() {
		defer close(g.done)
		// The opening ends soon after an interruption too (its restic is ended with it):
		// an interrupted run shows what its services did.
		err := r.Opened(context.WithoutCancel(ctx))
		g.mu.Lock()
		defer g.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			g.held, g.dropped = nil, true
			return
		}
		for _, call := range g.held {
			call(g.next)
		}
		g.held, g.open = nil, true
	}()
	return g
}

// wait returns once what was held has been passed on or dropped.
func (g *gatedReporter) wait() { <-g.done }

func (g *gatedReporter) pass(call func(Reporter)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.open:
		call(g.next)
	case !g.dropped:
		g.held = append(g.held, call)
	}
}

func (g *gatedReporter) Start(service string, strategy composeext.Strategy) {
	g.pass(func(r Reporter) { r.Start(service, strategy) })
}

func (g *gatedReporter) Progress(service string, s restic.Status) {
	g.pass(func(r Reporter) { r.Progress(service, s) })
}

func (g *gatedReporter) Done(res report.Result) { g.pass(func(r Reporter) { r.Done(res) }) }

func (g *gatedReporter) Warn(msg string) { g.pass(func(r Reporter) { r.Warn(msg) }) }
