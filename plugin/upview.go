package plugin

import (
	"fmt"
	"io"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/moby/term"

	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// newReporter picks JSON events, live lines on a terminal, or plain log lines.
func newReporter(s Streams, jsonEvents bool) app.Sink {
	switch {
	case jsonEvents:
		return newJSONSink(s.Out, nil)
	case isTerminal(s.Out):
		return &ttyReporter{out: s.Out, lines: map[string]string{}, redraw: throttle{every: 100 * time.Millisecond}}
	default:
		return &plainReporter{out: s.Out, progress: throttle{every: progressEvery}}
	}
}

// isTerminal reports whether a stream (an io.Reader or io.Writer) is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// progressEvery is how often progress is reported per service, outside a terminal.
const progressEvery = 5 * time.Second

// plainReporter prints up's events as log lines, for files and pipes; the summary
// table when the run went to its end.
type plainReporter struct {
	mu       sync.Mutex
	out      io.Writer
	progress throttle
}

// Event prints one event of up.
func (p *plainReporter) Event(e app.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case app.Started:
		fmt.Fprintf(p.out, "%s: backing up (%s)\n", e.Service, e.Strategy)
	case app.Progress:
		if e.Backup != nil && p.progress.due(e.Service) {
			fmt.Fprintf(p.out, "%s: %s\n", e.Service, progressLine(*e.Backup))
		}
	case app.Done:
		fmt.Fprintln(p.out, doneLine(*e.Result))
	case app.Warning:
		fmt.Fprintln(p.out, "warning: "+e.Message)
	case app.Ended:
		if !e.Interrupted && e.Err == nil {
			writeSummaryTable(p.out, e.Results)
		}
	}
}

// ttyReporter keeps one live line per service on a terminal.
type ttyReporter struct {
	mu     sync.Mutex
	out    io.Writer
	order  []string
	lines  map[string]string
	drawn  int
	redraw throttle
}

// Event redraws the lines with one event of up.
func (t *ttyReporter) Event(e app.Event) {
	switch e.Kind {
	case app.Started:
		t.set(e.Service, fmt.Sprintf("%s: starting (%s)", e.Service, e.Strategy), true)
	case app.Progress:
		if e.Backup != nil {
			t.set(e.Service, e.Service+": "+progressLine(*e.Backup), false)
		}
	case app.Done:
		t.set(e.Result.Service, doneLine(*e.Result), true)
	case app.Warning:
		t.set("\x00"+e.Message, "warning: "+e.Message, true)
	case app.Ended:
		if !e.Interrupted && e.Err == nil {
			fmt.Fprintln(t.out)
			writeSummaryTable(t.out, e.Results)
		}
	}
}

func (t *ttyReporter) set(svc, line string, force bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.lines[svc]; !ok {
		t.order = append(t.order, svc)
	}
	t.lines[svc] = line
	if !t.redraw.due("") && !force {
		return
	}
	if t.drawn > 0 {
		fmt.Fprintf(t.out, "\x1b[%dA", t.drawn)
	}
	for _, s := range t.order {
		fmt.Fprintf(t.out, "\x1b[2K%s\n", t.lines[s])
	}
	t.drawn = len(t.order)
}

// progressLine is restic's status in a few words: bytes, files, rate, ETA.
func progressLine(s restic.Status) string {
	line := fmt.Sprintf("%5.1f%%  %s", s.PercentDone*100, humanBytes(s.BytesDone))
	if s.TotalBytes > 0 {
		line += " / " + humanBytes(s.TotalBytes)
	}
	line += fmt.Sprintf("  %d files", s.FilesDone)
	if s.SecondsElapsed > 0 {
		line += fmt.Sprintf("  %s/s", humanBytes(s.BytesDone/s.SecondsElapsed))
	}
	// A stream has no known size: restic's estimate is then meaningless (and huge).
	if s.SecondsRemaining > 0 && s.TotalBytes > 0 && s.SecondsRemaining < 100*24*3600 {
		line += fmt.Sprintf("  ETA %s", time.Duration(s.SecondsRemaining)*time.Second)
	}
	return line
}

func doneLine(r report.Result) string {
	var line string
	switch r.Status {
	case report.StatusSkipped:
		return fmt.Sprintf("%s: skipped (strategy none)", r.Service)
	case report.StatusFailed:
		line = fmt.Sprintf("%s: FAILED: %v", r.Service, r.Err)
	default:
		line = fmt.Sprintf("%s: snapshot %s, %s added in %s", r.Service, restic.ShortID(r.Summary.SnapshotID),
			humanBytes(r.Summary.DataAdded), r.Duration.Round(100*time.Millisecond))
	}
	for _, w := range r.Warnings {
		line += "\n" + r.Service + ": warning: " + w
	}
	return line
}

// writeSummaryTable prints the closing table: one row per service.
func writeSummaryTable(w io.Writer, results []report.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTRATEGY\tSNAPSHOT\tNEW\tCHANGED\tUNMODIFIED\tADDED\tDURATION\tSTATUS")
	for _, r := range results {
		if r.Status == report.StatusSkipped {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t%s\n", r.Service, r.Strategy, r.Status)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", r.Service, r.Strategy, orDash(restic.ShortID(r.Summary.SnapshotID)),
			r.Summary.FilesNew, r.Summary.FilesChanged, r.Summary.FilesUnmodified, humanBytes(r.Summary.DataAdded),
			r.Duration.Round(100*time.Millisecond), r.Status)
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanBytes formats a byte count as docker does (base 1024, one decimal).
func humanBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
