package app

import (
	"context"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// Kind is what an event tells.
type Kind string

// The events of a use case: per run, began and ended; per service, started, steps and
// progress, done (with its Result); and warnings about the run.
const (
	// RunBegan: the command is about to work on the project (up's healthcheck start ping).
	RunBegan Kind = "run-began"
	// Started: a service's work begins (Strategy, and for restore Snapshot, are set).
	Started Kind = "start"
	// Progress: restic's progress of a service (Backup or Restore is set).
	Progress Kind = "progress"
	// Step: a service's step, in a few words (Message).
	Step Kind = "step"
	// Warning: a problem that concerns the run, not one service (Message).
	Warning Kind = "warning"
	// Done: a service's outcome (Result).
	Done Kind = "done"
	// Ended: the command's outcome (Run, Results; Err is the command's own failure).
	Ended Kind = "ended"
)

// Event is one thing that happened in a use case. Its texts are masked (the plan's
// secrets) before they are emitted.
type Event struct {
	Kind     Kind
	Service  string
	Strategy composeext.Strategy
	Message  string
	// Snapshot is the snapshot a restore starts from.
	Snapshot *restic.Snapshot
	// Backup and Restore are restic's progress of a backup or a restore.
	Backup  *restic.Status
	Restore *restic.RestoreStatus
	// Result is a service's outcome (Done).
	Result *report.Result
	// Run is the command's outcome as alerts, metrics and the scheduler read it;
	// Results its services' outcomes in plan order; Err its own failure (Ended).
	Run     *report.Run
	Results []report.Result
	Err     error
	// Interrupted is true when the command was stopped before its end (Ended).
	Interrupted bool
}

// Sink receives a use case's events; calls may come from several goroutines at once.
type Sink interface {
	Event(e Event)
}

// SinkFunc is a function that is a Sink.
type SinkFunc func(e Event)

// Event calls f.
func (f SinkFunc) Event(e Event) { f(e) }

// discard drops every event.
func discard(Event) {}

// Tee passes each event to every sink in turn, in order; nil sinks are left out.
func Tee(sinks ...Sink) Sink {
	var all []Sink
	for _, s := range sinks {
		if s != nil {
			all = append(all, s)
		}
	}
	return SinkFunc(func(e Event) {
		for _, s := range all {
			s.Event(e)
		}
	})
}

// WarnFunc returns a function that emits its message as a Warning event.
func WarnFunc(s Sink) func(string) {
	return func(msg string) { s.Event(Event{Kind: Warning, Message: msg}) }
}

// ended emits a command's Ended event.
func ended(ctx context.Context, sink Sink, rep report.Run, results []report.Result, err error) {
	sink.Event(Event{Kind: Ended, Run: &rep, Results: results, Err: err, Interrupted: ctx.Err() != nil})
}
