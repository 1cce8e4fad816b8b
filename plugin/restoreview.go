package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/restic"
)

// newRestoreReporter picks JSON events or plain lines; restore runs one service at a
// time, so lines read well on a terminal too.
func newRestoreReporter(out io.Writer, jsonEvents bool) restore.Reporter {
	if jsonEvents {
		return &restoreJSON{enc: json.NewEncoder(out), progress: throttle{every: time.Second}}
	}
	return &restorePlain{out: out, progress: throttle{every: progressEvery}}
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

// restoreJSON prints one JSON event per line, for CI.
type restoreJSON struct {
	mu       sync.Mutex
	enc      *json.Encoder
	progress throttle
}

func (j *restoreJSON) emit(e restoreEvent) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Time = time.Now().UTC()
	_ = j.enc.Encode(e)
}

func (j *restoreJSON) Start(job restore.Job) {
	j.emit(restoreEvent{Event: "start", Service: job.Service.Name, Strategy: job.Service.Strategy, Snapshot: job.Snapshot.ID})
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

func (j *restoreJSON) Done(r restore.Result) {
	e := restoreEvent{Event: "done", Service: r.Service, Strategy: r.Strategy, Snapshot: r.Snapshot, Status: "ok",
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

func (p *restorePlain) Start(job restore.Job) {
	fmt.Fprintf(p.out, "%s: restoring snapshot %s of %s (%s)\n", job.Service.Name, job.Snapshot.ShortID,
		job.Snapshot.Time.Local().Format(time.DateTime), job.Service.Strategy)
}

func (p *restorePlain) Step(svc, msg string) { fmt.Fprintf(p.out, "%s: %s\n", svc, msg) }

func (p *restorePlain) Progress(svc string, s restic.RestoreStatus) {
	if !p.progress.due(svc) {
		return
	}
	fmt.Fprintf(p.out, "%s: %5.1f%%  %s / %s  %d / %d files\n", svc, s.PercentDone*100,
		humanBytes(s.BytesRestored), humanBytes(s.TotalBytes), s.FilesRestored, s.TotalFiles)
}

func (p *restorePlain) Done(r restore.Result) {
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
