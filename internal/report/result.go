package report

import (
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/restic"
)

// Result is one service's outcome in any operation: a backup, a restore or a drill.
// Package backup, restore and verify return it, the application layer masks it, and the
// command line shows it; Report gives the Service that alerts, metrics and the scheduler
// keep. The fields after Err are those of one operation; the others leave them zero.
type Result struct {
	Service string
	// Strategy is the service's x-backup strategy (composeext.Strategy's value: this
	// package is below the compose layer).
	Strategy string
	Status   Status
	// Snapshot is the ID of the snapshot made, restored or drilled; empty when none.
	Snapshot string
	// Duration is how long the service's work took (a drill: its restore).
	Duration time.Duration
	// Warnings name files restic could not read, failed post and outcome hooks, and
	// retention problems (backup).
	Warnings []string
	// Err is the service's failure.
	Err error

	// Summary is restic's summary of a backup; Hooks how its hooks ended, in the order
	// they ran (backup).
	Summary restic.Summary
	Hooks   []HookResult
	// Volumes are the volumes a restore wrote, Rollbacks those that keep their previous
	// content; Target is the service a dump went into (restore).
	Volumes   []string
	Rollbacks []string
	Target    string
	// Node is the swarm node whose volumes a restore on a stack wrote (its hostname).
	Node string
	// Detail is what a drill's check found (its first line), or why it was skipped;
	// Kept the commands that remove what verify --keep left (verify).
	Detail string
	Kept   []string
	// Copied and Forgotten are the snapshots a copy added to its repository and those
	// its retention forgot there (copy: the Service is then the copy's name).
	Copied, Forgotten int
}

// HookResult is how one hook command of a backup ended.
type HookResult struct {
	// Hook names it by its list and position: "pre 1", "post 2", "on_failure 1". The
	// command is not shown: interpolation may have put a secret in it.
	Hook     string
	ExitCode int // -1 when it did not run to its end
	Duration time.Duration
	Err      error // nil when it exited 0
}

// Report is the result as alerts, metrics and the scheduler keep it.
func (r Result) Report() Service {
	s := Service{
		Service: r.Service, Strategy: r.Strategy, Status: r.Status, Snapshot: r.Snapshot,
		Duration: r.Duration, BytesAdded: r.Summary.DataAdded, Files: r.Summary.TotalFilesProcessed,
	}
	switch {
	case r.Err != nil:
		s.Error = OneLine(r.Err.Error())
	case len(r.Warnings) > 0:
		s.Error = OneLine(strings.Join(r.Warnings, "; "))
	}
	return s
}

// Services are the results' reports, in order.
func Services(results []Result) []Service {
	out := make([]Service, 0, len(results))
	for _, r := range results {
		out = append(out, r.Report())
	}
	return out
}
