package app

import (
	"slices"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/internal/verify"
	"github.com/docker-backup/docker-backup/restic"
)

// Result is one service's outcome in any use case: a backup, a restore or a drill.
// The fields after Err are those of one use case; the others leave them zero.
type Result struct {
	Service  string
	Strategy composeext.Strategy
	Status   report.Status
	// Snapshot is the ID of the snapshot made, restored or drilled; empty when none.
	Snapshot string
	// Duration is how long the service's work took (a drill: its restore).
	Duration time.Duration
	// Warnings name files restic could not read, failed post and outcome hooks, and
	// retention problems (up).
	Warnings []string
	// Err is the service's failure, its text masked.
	Err error

	// Summary is restic's summary of a backup; Hooks how its hooks ended (up).
	Summary restic.Summary
	Hooks   []backup.HookResult
	// Volumes are the volumes a restore wrote, Rollbacks those that keep their previous
	// content; Target is the service a dump went into (restore).
	Volumes   []string
	Rollbacks []string
	Target    string
	// Detail is what a drill's check found, or why it was skipped; Kept the commands
	// that remove what verify --keep left (verify).
	Detail string
	Kept   []string
}

// Report is the result as alerts, metrics and the scheduler read it.
func (r Result) Report() report.Service {
	s := report.Service{
		Service: r.Service, Strategy: string(r.Strategy), Status: r.Status, Snapshot: r.Snapshot,
		Duration: r.Duration, BytesAdded: r.Summary.DataAdded, Files: r.Summary.TotalFilesProcessed,
	}
	switch {
	case r.Err != nil:
		s.Error = report.OneLine(r.Err.Error())
	case len(r.Warnings) > 0:
		s.Error = report.OneLine(strings.Join(r.Warnings, "; "))
	}
	return s
}

// reports are the results as report's services.
func reports(results []Result) []report.Service {
	out := make([]report.Service, 0, len(results))
	for _, r := range results {
		out = append(out, r.Report())
	}
	return out
}

// finishReport closes the report of a run over services (up, verify): its duration,
// the services' outcomes, its error (masked, on one line) and its overall status.
func finishReport(rep *report.Run, results []Result, err error, mask func(string) string) {
	rep.Duration = time.Since(rep.Started)
	rep.Services = reports(results)
	if err != nil {
		rep.Error = mask(report.OneLine(err.Error()))
	}
	rep.Status = report.Overall(err, rep.Services)
}

// backupResult is a backup's outcome as a Result, masked.
func backupResult(r backup.Result, mask func(string) string) Result {
	out := Result{Service: r.Service, Strategy: r.Strategy, Status: r.Status, Snapshot: r.Summary.SnapshotID,
		Duration: r.Duration, Summary: r.Summary, Err: maskError(r.Err, mask)}
	for _, w := range r.Warnings {
		out.Warnings = append(out.Warnings, mask(w))
	}
	if r.Hooks != nil {
		out.Hooks = slices.Clone(r.Hooks)
		for i := range out.Hooks {
			out.Hooks[i].Err = maskError(out.Hooks[i].Err, mask)
		}
	}
	return out
}

// restoreResult is a restore's outcome as a Result, masked.
func restoreResult(r restore.Result, mask func(string) string) Result {
	status := report.StatusOK
	if r.Err != nil {
		status = report.StatusFailed
	}
	return Result{Service: r.Service, Strategy: r.Strategy, Status: status, Snapshot: r.Snapshot, Duration: r.Duration,
		Volumes: r.Volumes, Rollbacks: r.Rollbacks, Target: r.Target, Err: maskError(r.Err, mask)}
}

// verifyResult is a drill's outcome as a Result, masked.
func verifyResult(r verify.Result, mask func(string) string) Result {
	return Result{Service: r.Service, Strategy: r.Strategy, Status: r.Status, Snapshot: r.Snapshot.ID, Duration: r.Restore,
		Detail: mask(r.Detail), Kept: r.Kept, Err: maskError(r.Err, mask)}
}
