package plugin

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// newRestoreReporter picks JSON events or plain lines; restore runs one service at a
// time, so lines read well on a terminal too. Warnings go to stderr.
func newRestoreReporter(s Streams, jsonEvents bool) app.Sink {
	if jsonEvents {
		return newJSONSink(s.Out, warnTo(s.Err))
	}
	return &restorePlain{out: s.Out, warn: warnTo(s.Err), progress: throttle{every: progressEvery}}
}

// restorePlain prints restore's events as log lines.
type restorePlain struct {
	out      io.Writer
	warn     func(string)
	progress throttle
}

// Event prints one event of restore.
func (p *restorePlain) Event(e app.Event) {
	switch e.Kind {
	case app.Started:
		copied := ""
		if o := e.Snapshot.Original; o != "" {
			// A copy repository's (restore --from): the ID the primary knows it by.
			copied = ", copy of " + restic.ShortID(o)
		}
		fmt.Fprintf(p.out, "%s: restoring snapshot %s of %s (%s%s)\n", e.Service, e.Snapshot.ShortID,
			e.Snapshot.Time.Local().Format(time.DateTime), e.Strategy, copied)
	case app.Step:
		fmt.Fprintf(p.out, "%s: %s\n", e.Service, e.Message)
	case app.Progress:
		if s := e.Restore; s != nil && p.progress.due(e.Service) {
			fmt.Fprintf(p.out, "%s: %5.1f%%  %s / %s  %d / %d files\n", e.Service, s.PercentDone*100,
				humanBytes(s.BytesRestored), humanBytes(s.TotalBytes), s.FilesRestored, s.TotalFiles)
		}
	case app.Done:
		p.done(*e.Result)
	case app.Warning:
		p.warn(e.Message)
	}
}

func (p *restorePlain) done(r report.Result) {
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
	where := ""
	if r.Node != "" {
		line += " on node " + r.Node
		where = ", on node " + r.Node
	}
	fmt.Fprintln(p.out, line)
	if len(r.Rollbacks) > 0 {
		fmt.Fprintf(p.out, "%s: the previous content is kept in %s%s until the next restore (remove it with docker volume rm)\n",
			r.Service, strings.Join(r.Rollbacks, ", "), where)
	}
}
