// Package report is how a command of docker-backup ended (a backup run, a check, a
// prune): Result, one service's outcome as the operations return it, and Run and
// Service, the one form that its readers share: alerts (package notify), metrics
// (package metrics) and the scheduler's state. It imports only restic (a backup's
// summary).
package report

import (
	"strings"
	"time"
)

// Status is how a service's backup, or a whole command, ended.
type Status string

// The statuses, as `up` prints them.
const (
	StatusOK      Status = "ok"
	StatusWarning Status = "warning" // a snapshot was made, but some files could not be read
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // declared strategy none; or, with Error NotBegun, its run was stopped first
	// StatusInterrupted is a command, or a service's backup, that was under way when the
	// command was stopped (SIGTERM, Ctrl-C) or its process died: not a failure of the
	// backup, and nothing of it was committed.
	StatusInterrupted Status = "interrupted"
)

// NotBegun is the Error of a skipped service that was to be backed up but whose run
// was stopped before it began: it tells that skip from strategy none's.
const NotBegun = "not begun: the run was stopped"

// Service is one service's outcome in a backup run.
type Service struct {
	Service  string `json:"service"`
	Strategy string `json:"strategy"`
	Status   Status `json:"status"`
	// Error is one line, secrets masked; empty unless the status is failed or warning.
	Error string `json:"error,omitempty"`
	// Snapshot is the ID of the snapshot made, if one was.
	Snapshot   string        `json:"snapshot,omitempty"`
	Duration   time.Duration `json:"-"`
	BytesAdded uint64        `json:"bytes_added"`
	Files      uint64        `json:"files"`
}

// CommandVerify is the restore drill's command: its services' outcomes are drills, not
// backups.
const CommandVerify = "verify"

// CommandCopy is docker backup copy: its outcomes are copy repositories (Service is the
// copy's name, Strategy StrategyCopy), not services.
const CommandCopy = "copy"

// StrategyCopy is the Strategy of a copy repository's outcome.
const StrategyCopy = "copy"

// Run is one command's outcome: `up` or `verify` with its services, or `check`, `prune`
// alone.
type Run struct {
	// Command is "up", "verify", "check" or "prune".
	Command string `json:"command"`
	Project string `json:"project"`
	// Machine names the machine in the snapshots' identity (restic's --host is
	// <project>@<machine>).
	Machine  string        `json:"machine"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
	// Status is failed when the command or any service failed, warning when any
	// service warned, interrupted when the command was stopped before its end (see
	// Interrupt), else ok.
	Status Status `json:"status"`
	// Error is the command's own failure (the repository could not be opened…), one
	// line, masked; a service's failure is in its Service.
	Error    string    `json:"error,omitempty"`
	Services []Service `json:"services,omitempty"`
}

// Overall is the status of a run whose command ended with err (nil: it ran to its
// end) and whose services ended as given.
func Overall(err error, services []Service) Status {
	if err != nil {
		return StatusFailed
	}
	status := StatusOK
	for _, s := range services {
		switch s.Status {
		case StatusFailed:
			return StatusFailed
		case StatusWarning:
			status = StatusWarning
		}
	}
	return status
}

// Interrupt makes run the outcome of a command that was stopped before its end. A
// service whose outcome was settled before the stop keeps it (a snapshot made is made),
// strategy none stays skipped; one that had begun is interrupted, with no error of its
// own (the raw errors of a cancelled context are noise, not news); one that had not
// begun is skipped with NotBegun. The run's Error says which were which in one line.
func Interrupt(run *Run, began, settled func(service string) bool) {
	run.Status = StatusInterrupted
	var under, not []string
	for i := range run.Services {
		s := &run.Services[i]
		switch {
		case settled(s.Service), s.Status == StatusSkipped && s.Strategy == "none":
			continue
		case began(s.Service):
			s.Status, s.Error = StatusInterrupted, ""
			under = append(under, s.Service)
		default:
			s.Status, s.Error, s.Snapshot = StatusSkipped, NotBegun, ""
			not = append(not, s.Service)
		}
	}
	parts := []string{}
	if len(under) > 0 {
		parts = append(parts, strings.Join(under, ", ")+" interrupted")
	}
	if len(not) > 0 {
		parts = append(parts, strings.Join(not, ", ")+" not begun")
	}
	run.Error = "stopped before its end"
	if len(parts) > 0 {
		run.Error += ": " + strings.Join(parts, "; ")
	}
}

// OneLine joins a message's lines with " | " and collapses its spaces, for reports
// that are one line per error.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "\n", " | ")), " ")
}
