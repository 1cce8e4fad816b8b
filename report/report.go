// Package report is how a command of docker-backup ended (a backup run, a check, a
// prune), in the one form that its readers share: alerts (package notify), metrics
// (package metrics) and the scheduler's state. It imports nothing of ours.
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
	StatusSkipped Status = "skipped" // declared strategy none
)

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
	// service warned, else ok.
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

// OneLine joins a message's lines with " | " and collapses its spaces, for reports
// that are one line per error.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "\n", " | ")), " ")
}
