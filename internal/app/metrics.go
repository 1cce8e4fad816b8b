package app

import (
	"context"
	"fmt"
	"time"

	"github.com/docker-backup/docker-backup/internal/metrics"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// metricsFile is a command's --metrics-file: where its outcome is written as Prometheus
// metrics, with what the command found of the repository. Nil when not asked for; its
// methods then do nothing.
type metricsFile struct {
	path string
	// warn gets what could not be written.
	warn func(string)
	// interrupted: the outcome of a command stopped before its end is written too.
	interrupted bool
	// repo is what up found of the project's snapshots; ok false when not gathered.
	repo struct {
		ok        bool
		snapshots int
		size      uint64
	}
}

// newMetricsFile is the flag's metrics file, or nil.
func newMetricsFile(path string, warn func(string)) *metricsFile {
	if path == "" {
		return nil
	}
	return &metricsFile{path: path, warn: warn}
}

// Event writes the command's outcome when it ends.
func (f *metricsFile) Event(e Event) {
	if f != nil && e.Kind == Ended && (!e.Interrupted || f.interrupted) {
		f.write(*e.Run, f.warn)
	}
}

// gather reads the project's snapshot count and their size in the repository, within
// the run. It costs one restic command, so only with a metrics file; a failure is a
// warning, never a failed backup.
func (f *metricsFile) gather(ctx context.Context, r restic.Runner, id snapshot.Identity, warn func(string)) {
	if f == nil || ctx.Err() != nil {
		return
	}
	st, err := restic.Stats(ctx, r, snapshot.ProjectFilter(id))
	if err != nil {
		warn(fmt.Sprintf("metrics: the repository's snapshot count and size are left out: %s", report.OneLine(err.Error())))
		return
	}
	f.repo.ok, f.repo.snapshots, f.repo.size = true, st.SnapshotsCount, st.TotalSize
}

// write adds the command's outcome to the file, keeping the series of earlier runs (a
// service's last success, services not run this time, other commands). A failure is
// one warning: the command's own outcome and exit code stay as they are.
func (f *metricsFile) write(rep report.Run, warn func(string)) {
	if f == nil {
		return
	}
	m, err := metrics.LoadFile(f.path)
	if err != nil {
		warn(fmt.Sprintf("metrics: %v; its earlier series are dropped", err))
	}
	m.Observe(rep, time.Now())
	if f.repo.ok {
		m.ObserveRepository(rep.Project, f.repo.snapshots, f.repo.size)
	}
	if err := m.WriteFile(f.path); err != nil {
		warn(fmt.Sprintf("metrics: %v", err))
	}
}
