package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/moby/term"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// upReporter shows up's progress and its closing summary.
type upReporter interface {
	Start(service string, strategy composeext.Strategy)
	Progress(service string, s restic.Status)
	Done(r report.Result)
	Warn(msg string)
	Finish(results []report.Result)
}

// upView renders up's events with a reporter.
type upView struct{ r upReporter }

// Event shows one event of up; the summary only when the run went to its end.
func (v upView) Event(e app.Event) {
	switch e.Kind {
	case app.Started:
		v.r.Start(e.Service, e.Strategy)
	case app.Progress:
		if e.Backup != nil {
			v.r.Progress(e.Service, *e.Backup)
		}
	case app.Done:
		v.r.Done(*e.Result)
	case app.Warning:
		v.r.Warn(e.Message)
	case app.Ended:
		if !e.Interrupted && e.Err == nil {
			v.r.Finish(e.Results)
		}
	}
}

// newReporter picks JSON events, live lines on a terminal, or plain log lines.
func newReporter(s Streams, jsonEvents bool) app.Sink {
	switch {
	case jsonEvents:
		return upView{&jsonReporter{newJSONLines(s.Out, func(e *upEvent, t time.Time) { e.Time = t })}}
	case isTerminal(s.Out):
		return upView{&ttyReporter{out: s.Out, lines: map[string]string{}, redraw: throttle{every: 100 * time.Millisecond}}}
	default:
		return upView{&plainReporter{out: s.Out, progress: throttle{every: progressEvery}}}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// progressEvery is how often progress is reported per service, outside a terminal.
const progressEvery = 5 * time.Second

// jsonLines prints one JSON event per line, for CI: up's and restore's --json. Each
// event gets its time; progress events at most once a second per service.
type jsonLines[E any] struct {
	mu       sync.Mutex
	enc      *json.Encoder
	progress throttle
	// stamp sets an event's time.
	stamp func(e *E, t time.Time)
}

func newJSONLines[E any](w io.Writer, stamp func(e *E, t time.Time)) jsonLines[E] {
	return jsonLines[E]{enc: json.NewEncoder(w), progress: throttle{every: time.Second}, stamp: stamp}
}

func (j *jsonLines[E]) emit(e E) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stamp(&e, time.Now().UTC())
	_ = j.enc.Encode(e)
}

// jsonReporter prints up's events as JSON lines.
type jsonReporter struct{ jsonLines[upEvent] }

type upEvent struct {
	Event    string              `json:"event"`
	Time     time.Time           `json:"time"`
	Service  string              `json:"service,omitempty"`
	Strategy composeext.Strategy `json:"strategy,omitempty"`
	Status   string              `json:"status,omitempty"`
	Progress *restic.Status      `json:"progress,omitempty"`
	Summary  *restic.Summary     `json:"summary,omitempty"`
	Duration float64             `json:"duration_seconds,omitempty"`
	Warnings []string            `json:"warnings,omitempty"`
	Hooks    []hookEvent         `json:"hooks,omitempty"`
	Error    string              `json:"error,omitempty"`
}

// hookEvent is how one hook ended, in a done or error event.
type hookEvent struct {
	Hook     string  `json:"hook"`
	ExitCode int     `json:"exit_code"`
	Duration float64 `json:"duration_seconds"`
	Error    string  `json:"error,omitempty"`
}

func (j *jsonReporter) Start(svc string, st composeext.Strategy) {
	j.emit(upEvent{Event: "start", Service: svc, Strategy: st})
}

func (j *jsonReporter) Progress(svc string, s restic.Status) {
	if j.progress.due(svc) {
		j.emit(upEvent{Event: "progress", Service: svc, Progress: &s})
	}
}

func (j *jsonReporter) Done(r report.Result) {
	e := upEvent{Event: "done", Service: r.Service, Strategy: composeext.Strategy(r.Strategy), Status: string(r.Status), Duration: r.Duration.Seconds(), Warnings: r.Warnings}
	if r.Summary.SnapshotID != "" {
		e.Summary = &r.Summary
	}
	for _, h := range r.Hooks {
		he := hookEvent{Hook: h.Hook, ExitCode: h.ExitCode, Duration: h.Duration.Seconds()}
		if h.Err != nil {
			he.Error = h.Err.Error()
		}
		e.Hooks = append(e.Hooks, he)
	}
	if r.Err != nil {
		e.Event, e.Error = "error", r.Err.Error()
	}
	j.emit(e)
}

func (j *jsonReporter) Warn(msg string) { j.emit(upEvent{Event: "warning", Warnings: []string{msg}}) }

func (j *jsonReporter) Finish([]report.Result) {}

// plainReporter prints log lines, for files and pipes.
type plainReporter struct {
	mu       sync.Mutex
	out      io.Writer
	progress throttle
}

func (p *plainReporter) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, args...)
}

func (p *plainReporter) Start(svc string, st composeext.Strategy) {
	p.printf("%s: backing up (%s)\n", svc, st)
}

func (p *plainReporter) Progress(svc string, s restic.Status) {
	if p.progress.due(svc) {
		p.printf("%s: %s\n", svc, progressLine(s))
	}
}

func (p *plainReporter) Done(r report.Result) { p.printf("%s\n", doneLine(r)) }

func (p *plainReporter) Warn(msg string) { p.printf("warning: %s\n", msg) }

func (p *plainReporter) Finish(results []report.Result) { writeSummaryTable(p.out, results) }

// ttyReporter keeps one live line per service on a terminal.
type ttyReporter struct {
	mu     sync.Mutex
	out    io.Writer
	order  []string
	lines  map[string]string
	drawn  int
	redraw throttle
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

func (t *ttyReporter) Start(svc string, st composeext.Strategy) {
	t.set(svc, fmt.Sprintf("%s: starting (%s)", svc, st), true)
}

func (t *ttyReporter) Progress(svc string, s restic.Status) {
	t.set(svc, svc+": "+progressLine(s), false)
}

func (t *ttyReporter) Done(r report.Result) { t.set(r.Service, doneLine(r), true) }

func (t *ttyReporter) Warn(msg string) { t.set("\x00"+msg, "warning: "+msg, true) }

func (t *ttyReporter) Finish(results []report.Result) {
	fmt.Fprintln(t.out)
	writeSummaryTable(t.out, results)
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
