package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// Notice is one outcome as a webhook receives it: a service's backup, or a whole
// command (Service empty) that has no services or failed itself.
type Notice struct {
	Project  string        `json:"project"`
	Machine  string        `json:"machine"`
	Command  string        `json:"command"`
	Service  string        `json:"service"`
	Status   report.Status `json:"status"`
	Error    string        `json:"error"`
	Snapshot string        `json:"snapshot"`
	Duration float64       `json:"duration_seconds"`
	// Time is when the run ended.
	Time time.Time `json:"time"`
}

// Notices are the run's outcomes: one per service, and one of the run itself when it
// has no services (check, prune) or failed on its own (the repository could not be
// opened, it was interrupted).
func Notices(run report.Run) []Notice {
	end := run.Started.Add(run.Duration).UTC()
	base := Notice{Project: run.Project, Machine: run.Machine, Command: run.Command, Time: end}
	var out []Notice
	for _, s := range run.Services {
		n := base
		n.Service, n.Status, n.Error, n.Snapshot = s.Service, s.Status, s.Error, s.Snapshot
		n.Duration = s.Duration.Seconds()
		out = append(out, n)
	}
	if len(run.Services) == 0 || run.Error != "" {
		n := base
		n.Status, n.Error, n.Duration = run.Status, run.Error, run.Duration.Seconds()
		out = append(out, n)
	}
	return out
}

// Text is a notice as one line for people: "docker-backup shop@vm-3f9a1c: db backup
// FAILED: <error>".
func (n Notice) Text() string {
	what := n.Command
	switch {
	case n.Service != "" && n.Command == report.CommandCopy:
		what = "copy to " + n.Service
	case n.Service != "":
		what = n.Service + " backup"
	}
	line := fmt.Sprintf("%s: %s %s", who(n.Project, n.Machine), what, statusWord(n.Status))
	switch {
	case n.Error != "":
		line += ": " + n.Error
	case n.Snapshot != "":
		line += fmt.Sprintf(" (snapshot %s, %s)", restic.ShortID(n.Snapshot), time.Duration(n.Duration*float64(time.Second)).Round(time.Second))
	}
	return line
}

// Summary is the whole run in one line, for a healthcheck ping's body:
// "docker-backup shop@vm-3f9a1c: up FAILED: db: <error>; 1 ok".
func Summary(run report.Run) string {
	line := fmt.Sprintf("%s: %s %s", who(run.Project, run.Machine), run.Command, statusWord(run.Status))
	var parts []string
	if run.Error != "" && run.Status != report.StatusInterrupted {
		// An interrupted run's Error lists its services, as the parts below do.
		parts = append(parts, run.Error)
	}
	ok := 0
	for _, s := range run.Services {
		switch s.Status {
		case report.StatusOK:
			ok++
		case report.StatusFailed, report.StatusWarning:
			parts = append(parts, fmt.Sprintf("%s %s: %s", s.Service, s.Status, s.Error))
		case report.StatusInterrupted:
			parts = append(parts, s.Service+" interrupted")
		case report.StatusSkipped:
			if s.Error == report.NotBegun {
				parts = append(parts, s.Service+" not begun")
			}
		}
	}
	if ok > 0 {
		parts = append(parts, fmt.Sprintf("%d ok", ok))
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, "; ")
	}
	return line
}

// who names the project and machine as the snapshots' host does.
func who(project, machine string) string {
	if machine == "" {
		return "docker-backup " + project
	}
	return "docker-backup " + project + "@" + machine
}

// statusWord shouts what needs attention.
func statusWord(s report.Status) string {
	switch s {
	case report.StatusFailed:
		return "FAILED"
	case report.StatusWarning:
		return "WARNING"
	case report.StatusInterrupted:
		return "INTERRUPTED"
	}
	return string(s)
}
