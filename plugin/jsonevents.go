package plugin

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/restic"
)

// eventLine is one line of up's and restore's --json: one shape for both commands, the
// fields an event does not have left out.
type eventLine struct {
	Event   string    `json:"event"`
	Time    time.Time `json:"time"`
	Service string    `json:"service,omitempty"`
	// Copy names the copy repository of a copy's event (copy --json), in Service's place.
	Copy      string              `json:"copy,omitempty"`
	Strategy  composeext.Strategy `json:"strategy,omitempty"`
	Snapshot  string              `json:"snapshot,omitempty"`
	Status    string              `json:"status,omitempty"`
	Message   string              `json:"message,omitempty"`
	Progress  any                 `json:"progress,omitempty"`
	Summary   *restic.Summary     `json:"summary,omitempty"`
	Volumes   []string            `json:"volumes,omitempty"`
	Rollbacks []string            `json:"rollback_volumes,omitempty"`
	Node      string              `json:"node,omitempty"`
	Target    string              `json:"target,omitempty"`
	Duration  float64             `json:"duration_seconds,omitempty"`
	Warnings  []string            `json:"warnings,omitempty"`
	// Copied and Forgotten are a copy's snapshots added to its repository and
	// forgotten there by its retention (copy's done line).
	Copied    *int       `json:"copied,omitempty"`
	Forgotten *int       `json:"forgotten,omitempty"`
	Hooks     []hookLine `json:"hooks,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// hookLine is how one hook ended, in a done or error line.
type hookLine struct {
	Hook     string  `json:"hook"`
	ExitCode int     `json:"exit_code"`
	Duration float64 `json:"duration_seconds"`
	Error    string  `json:"error,omitempty"`
}

// jsonSink prints a command's events as JSON lines, for CI: progress at most once a
// second per service. Warnings are lines too, unless warn takes them (restore's go to
// stderr).
type jsonSink struct {
	mu       sync.Mutex
	enc      *json.Encoder
	progress throttle
	warn     func(string)
	// copies: the events are copy's, whose Service is a copy repository's name.
	copies bool
}

func newJSONSink(w io.Writer, warn func(string)) *jsonSink {
	return &jsonSink{enc: json.NewEncoder(w), progress: throttle{every: time.Second}, warn: warn}
}

// Event prints e as a line, when it is one the command's --json shows.
func (j *jsonSink) Event(e app.Event) {
	l := eventLine{Event: string(e.Kind), Service: e.Service, Strategy: e.Strategy, Message: e.Message}
	switch e.Kind {
	case app.Started:
		if e.Snapshot != nil {
			l.Snapshot = e.Snapshot.ID
		}
	case app.Step:
	case app.Progress:
		if !j.progress.due(e.Service) {
			return
		}
		if l.Progress = e.Backup; e.Backup == nil {
			l.Progress = e.Restore
		}
	case app.Warning:
		if j.warn != nil {
			j.warn(e.Message)
			return
		}
		l.Message, l.Warnings = "", []string{e.Message}
	case app.Done:
		l = doneEventLine(e)
	default:
		return
	}
	if j.copies {
		l.Copy, l.Service = l.Service, ""
		if e.Kind == app.Done {
			l.Copied, l.Forgotten = &e.Result.Copied, &e.Result.Forgotten
			l.Summary = nil
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	l.Time = time.Now().UTC()
	_ = j.enc.Encode(l)
}

// doneEventLine is a service's outcome: a done line, or an error line when it failed.
func doneEventLine(e app.Event) eventLine {
	r := e.Result
	l := eventLine{Event: "done", Service: r.Service, Strategy: composeext.Strategy(r.Strategy), Snapshot: r.Snapshot,
		Status: string(r.Status), Volumes: r.Volumes, Rollbacks: r.Rollbacks, Target: r.Target, Node: r.Node,
		Duration: r.Duration.Seconds(), Warnings: r.Warnings}
	if r.Summary.SnapshotID != "" {
		l.Summary = &r.Summary
	}
	for _, h := range r.Hooks {
		hl := hookLine{Hook: h.Hook, ExitCode: h.ExitCode, Duration: h.Duration.Seconds()}
		if h.Err != nil {
			hl.Error = h.Err.Error()
		}
		l.Hooks = append(l.Hooks, hl)
	}
	if r.Err != nil {
		l.Event, l.Error = "error", r.Err.Error()
	}
	return l
}
