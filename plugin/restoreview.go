package plugin

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// restoreReporter shows restore's progress.
type restoreReporter interface {
	Start(service string, strategy composeext.Strategy, snap restic.Snapshot)
	Step(service, message string)
	Progress(service string, s restic.RestoreStatus)
	Done(r report.Result)
}

// restoreView renders restore's events with a reporter; its warnings go to stderr.
type restoreView struct {
	r    restoreReporter
	warn func(string)
}

// Event shows one event of restore.
func (v restoreView) Event(e app.Event) {
	switch e.Kind {
	case app.Started:
		v.r.Start(e.Service, e.Strategy, *e.Snapshot)
	case app.Step:
		v.r.Step(e.Service, e.Message)
	case app.Progress:
		if e.Restore != nil {
			v.r.Progress(e.Service, *e.Restore)
		}
	case app.Done:
		v.r.Done(*e.Result)
	case app.Warning:
		v.warn(e.Message)
	}
}

// newRestoreReporter picks JSON events or plain lines; restore runs one service at a
// time, so lines read well on a terminal too.
func newRestoreReporter(s Streams, jsonEvents bool) app.Sink {
	if jsonEvents {
		return restoreView{&restoreJSON{newJSONLines(s.Out, func(e *restoreEvent, t time.Time) { e.Time = t })}, warnTo(s.Err)}
	}
	return restoreView{&restorePlain{out: s.Out, progress: throttle{every: progressEvery}}, warnTo(s.Err)}
}

// restoreEvent is one line of restore --json, shaped like up's events.
type restoreEvent struct {
	Event     string                `json:"event"`
	Time      time.Time             `json:"time"`
	Service   string                `json:"service,omitempty"`
	Strategy  composeext.Strategy   `json:"strategy,omitempty"`
	Snapshot  string                `json:"snapshot,omitempty"`
	Status    string                `json:"status,omitempty"`
	Message   string                `json:"message,omitempty"`
	Progress  *restic.RestoreStatus `json:"progress,omitempty"`
	Volumes   []string              `json:"volumes,omitempty"`
	Rollbacks []string              `json:"rollback_volumes,omitempty"`
	Target    string                `json:"target,omitempty"`
	Duration  float64               `json:"duration_seconds,omitempty"`
	Error     string                `json:"error,omitempty"`
}

// restoreJSON prints restore's events as JSON lines.
type restoreJSON struct{ jsonLines[restoreEvent] }

func (j *restoreJSON) Start(svc string, st composeext.Strategy, snap restic.Snapshot) {
	j.emit(restoreEvent{Event: "start", Service: svc, Strategy: st, Snapshot: snap.ID})
}

func (j *restoreJSON) Step(svc, msg string) {
	j.emit(restoreEvent{Event: "step", Service: svc, Message: msg})
}

func (j *restoreJSON) Progress(svc string, s restic.RestoreStatus) {
	if !j.progress.due(svc) {
		return
	}
	j.emit(restoreEvent{Event: "progress", Service: svc, Progress: &s})
}

func (j *restoreJSON) Done(r report.Result) {
	e := restoreEvent{Event: "done", Service: r.Service, Strategy: composeext.Strategy(r.Strategy), Snapshot: r.Snapshot, Status: "ok",
		Volumes: r.Volumes, Rollbacks: r.Rollbacks, Target: r.Target, Duration: r.Duration.Seconds()}
	if r.Err != nil {
		e.Event, e.Status, e.Error = "error", "failed", r.Err.Error()
	}
	j.emit(e)
}

// restorePlain prints log lines.
type restorePlain struct {
	out      io.Writer
	progress throttle
}

func (p *restorePlain) Start(svc string, st composeext.Strategy, snap restic.Snapshot) {
	fmt.Fprintf(p.out, "%s: restoring snapshot %s of %s (%s)\n", svc, snap.ShortID, snap.Time.Local().Format(time.DateTime), st)
}

func (p *restorePlain) Step(svc, msg string) { fmt.Fprintf(p.out, "%s: %s\n", svc, msg) }

func (p *restorePlain) Progress(svc string, s restic.RestoreStatus) {
	if !p.progress.due(svc) {
		return
	}
	fmt.Fprintf(p.out, "%s: %5.1f%%  %s / %s  %d / %d files\n", svc, s.PercentDone*100,
		humanBytes(s.BytesRestored), humanBytes(s.TotalBytes), s.FilesRestored, s.TotalFiles)
}

func (p *restorePlain) Done(r report.Result) {
	if r.Err != nil {
		fmt.Fprintf(p.out, "%s: restore FAILED after %s\n", r.Service, r.Duration.Round(100*time.Millisecond))
		return
	}
	line := fmt.Sprintf("%s: restored snapshot %s in %s", r.Service, restic.ShortID(r.Snapshot), r.Duration.Round(100*time.Millisecond))
	switch {
	case r.Target != "":
		line += " into service " + r.Target
	case len(r.Volumes) > 0:
		line += " into " + strings.Join(r.Volumes, ", ")
	}
	fmt.Fprintln(p.out, line)
	if len(r.Rollbacks) > 0 {
		fmt.Fprintf(p.out, "%s: the previous content is kept in %s until the next restore (remove it with docker volume rm)\n",
			r.Service, strings.Join(r.Rollbacks, ", "))
	}
}
