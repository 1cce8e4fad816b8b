package plugin

import (
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
)

// newCopyReporter picks JSON events (a copy's name in "copy") or log lines.
func newCopyReporter(s Streams, jsonEvents bool) app.Sink {
	if jsonEvents {
		j := newJSONSink(s.Out, nil)
		j.copies = true
		return j
	}
	return &copyReporter{out: s.Out}
}

// copyReporter prints copy's events as lines, one per step, and the closing table
// when the run went to its end:
//
//	offsite: copying 2 of 5 confirmed snapshot(s)
//	offsite: copied 1/2 (snapshot 3f9a1c2b)
type copyReporter struct {
	mu  sync.Mutex
	out io.Writer
}

// Event prints one event of copy.
func (p *copyReporter) Event(e app.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case app.Started:
		fmt.Fprintf(p.out, "%s: opening the copy repository\n", e.Service)
	case app.Step:
		fmt.Fprintf(p.out, "%s: %s\n", e.Service, e.Message)
	case app.Done:
		r := e.Result
		switch {
		case r.Err != nil:
			fmt.Fprintf(p.out, "%s: FAILED: %s\n", r.Service, report.OneLine(r.Err.Error()))
		default:
			fmt.Fprintf(p.out, "%s: %s in %s\n", r.Service, r.Detail, r.Duration.Round(100*time.Millisecond))
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(p.out, "%s: warning: %s\n", r.Service, w)
		}
	case app.Warning:
		fmt.Fprintln(p.out, "warning: "+e.Message)
	case app.Ended:
		if !e.Interrupted && e.Err == nil {
			writeCopyTable(p.out, e.Results)
		}
	}
}

// writeCopyTable prints one row per copy repository.
func writeCopyTable(w io.Writer, results []report.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COPY\tCOPIED\tFORGOTTEN\tDURATION\tSTATUS")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", r.Service, r.Copied, r.Forgotten, r.Duration.Round(100*time.Millisecond), r.Status)
	}
	_ = tw.Flush()
}
