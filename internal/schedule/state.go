package schedule

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/internal/atomicfile"
	"github.com/docker-backup/docker-backup/internal/report"
)

// StateFile is where the scheduler keeps its state in its container, for
// `docker backup status`.
const StateFile = "/var/lib/docker-backup/scheduler.json"

// State is what the scheduler knows beyond the repository: runs that failed, when the
// next ones are, whether it is alive.
type State struct {
	Project string    `json:"project"`
	Machine string    `json:"machine,omitempty"`
	Started time.Time `json:"started"`
	// Heartbeat is renewed while the scheduler runs, between jobs too.
	Heartbeat time.Time `json:"heartbeat"`
	// Running names the job in progress, if any, RunningSince when it began and Began
	// the services it began and has not settled yet: written before they begin, so
	// that a scheduler that dies meanwhile is known, at its next start, to have left
	// them interrupted.
	Running      string                  `json:"running,omitempty"`
	RunningSince time.Time               `json:"running_since,omitzero"`
	Began        []string                `json:"began,omitempty"`
	Jobs         map[string]JobState     `json:"jobs"`
	Services     map[string]ServiceState `json:"services"`
	// Copies are the scheduler's last copies to each copy repository (x-backup.copies).
	Copies map[string]CopyState `json:"copies,omitempty"`
	// Interrupted is the last dead run the scheduler found at its start, and what its
	// recovery did.
	Interrupted *Interruption `json:"interrupted,omitempty"`
}

// Interruption is a run that died before its end (its scheduler was killed, its host
// went down), as the next scheduler found it and recovered it.
type Interruption struct {
	// Job is the scheduler's job that was in progress; empty for a dead run that was
	// not the scheduler's (an up or restore from the host).
	Job string `json:"job,omitempty"`
	// Started is when that job began.
	Started time.Time `json:"started,omitzero"`
	// Began are the services it had begun and not settled.
	Began []string `json:"began,omitempty"`
	// Found is when recovery ran.
	Found time.Time `json:"found"`
	// Cause says in a few words why the run ended early.
	Cause string `json:"cause,omitempty"`
	// Restarted are the containers recovery started again: left stopped by the run.
	Restarted []Restart `json:"restarted,omitempty"`
	// Log is what recovery said, one line each.
	Log []string `json:"log,omitempty"`
}

// Restart is a container that recovery started again.
type Restart struct {
	Service   string    `json:"service,omitempty"`
	Container string    `json:"container"`
	At        time.Time `json:"at"`
}

// JobState is one scheduled job's last run and next tick.
type JobState struct {
	Schedule   string        `json:"schedule"`
	Next       time.Time     `json:"next"`
	LastRun    time.Time     `json:"last_run,omitzero"`
	LastStatus report.Status `json:"last_status,omitempty"`
	LastError  string        `json:"last_error,omitempty"`
	// Skipped counts the ticks skipped because another job was running.
	Skipped int `json:"skipped,omitempty"`
}

// ServiceState is one service's last scheduled backup.
type ServiceState struct {
	LastRun      time.Time     `json:"last_run"`
	LastStatus   report.Status `json:"last_status"`
	LastError    string        `json:"last_error,omitempty"`
	LastSuccess  time.Time     `json:"last_success,omitzero"`
	LastSnapshot string        `json:"last_snapshot,omitempty"`
	// StartedAgain is when recovery started the service again after a dead run had
	// left it stopped.
	StartedAgain time.Time `json:"started_again,omitzero"`
}

// CopyState is the scheduler's last copy to a copy repository, and how that copy
// stood against the primary when last looked at (copies.Standing).
type CopyState struct {
	LastRun     time.Time     `json:"last_run"`
	LastStatus  report.Status `json:"last_status"`
	LastError   string        `json:"last_error,omitempty"`
	LastSuccess time.Time     `json:"last_success,omitzero"`
}

// Tracker keeps a State up to date from the scheduler's events and writes it to a
// file after each change (atomically: a reader never sees half of it).
type Tracker struct {
	path string
	mu   sync.Mutex
	s    State
	// left is the job an earlier scheduler of this container left in progress.
	left *Interruption
}

// NewTracker starts the state of project's scheduler; path may be empty (no file). An
// earlier state of the project at path (the same container, started again) is carried
// forward: its last runs, and the job it left in progress, if any (see Left).
func NewTracker(path, project string, jobs []Job, now time.Time) *Tracker {
	t := &Tracker{path: path, s: State{Project: project, Started: now, Heartbeat: now,
		Jobs: map[string]JobState{}, Services: map[string]ServiceState{}}}
	prev, ok := readState(path, project)
	if ok {
		t.s.Machine, t.s.Interrupted = prev.Machine, prev.Interrupted
		for k, v := range prev.Services {
			t.s.Services[k] = v
		}
		if prev.Running != "" {
			t.left = &Interruption{Job: prev.Running, Started: prev.RunningSince, Began: prev.Began}
		}
	}
	for _, j := range jobs {
		js := prev.Jobs[j.Name]
		js.Schedule, js.Next = j.Spec, time.Time{}
		t.s.Jobs[j.Name] = js
	}
	return t
}

// readState reads an earlier state of project at path; a missing or unreadable file,
// or another project's, is none.
func readState(path, project string) (State, bool) {
	if path == "" {
		return State{}, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return State{}, false
	}
	s, err := ParseState(data)
	if err != nil || s.Project != project {
		return State{}, false
	}
	return s, true
}

// Left returns the job that an earlier scheduler of this container left in progress
// (it died during it), or nil.
func (t *Tracker) Left() *Interruption {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.left == nil {
		return nil
	}
	in := *t.left
	return &in
}

// Recovered records what recovery found and did at the scheduler's start: the job
// left in progress is interrupted, with the services it had begun; the containers
// started again are their services' StartedAgain.
func (t *Tracker) Recovered(in Interruption) error {
	return t.update(func(s *State) {
		if in.Job != "" {
			j := s.Jobs[in.Job]
			j.LastRun, j.LastStatus, j.LastError = in.Started, report.StatusInterrupted, in.Cause
			s.Jobs[in.Job] = j
		}
		for _, svc := range in.Began {
			if in.Job != "up" {
				break // a service's state is its backups'
			}
			st := s.Services[svc]
			st.LastRun, st.LastStatus, st.LastError = in.Started, report.StatusInterrupted, in.Cause
			s.Services[svc] = st
		}
		for _, r := range in.Restarted {
			if r.Service == "" {
				continue
			}
			st := s.Services[r.Service]
			st.StartedAgain = r.At
			s.Services[r.Service] = st
		}
		s.Interrupted = &in
		t.left = nil
	})
}

// Snapshot returns a copy of the state.
func (t *Tracker) Snapshot() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	s.Jobs, s.Services = map[string]JobState{}, map[string]ServiceState{}
	for k, v := range t.s.Jobs {
		s.Jobs[k] = v
	}
	for k, v := range t.s.Services {
		s.Services[k] = v
	}
	return s
}

// update changes the state under the lock and writes the file.
func (t *Tracker) update(change func(s *State)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	change(&t.s)
	if t.path == "" {
		return nil
	}
	return writeJSON(t.path, t.s)
}

// Next records the next ticks of the jobs.
func (t *Tracker) Next(next map[string]time.Time) error {
	return t.update(func(s *State) { setNext(s, next) })
}

// Heartbeat renews the heartbeat.
func (t *Tracker) Heartbeat(now time.Time) error {
	return t.update(func(s *State) { s.Heartbeat = now })
}

// Started records that job began: before it does anything.
func (t *Tracker) Started(job string, now time.Time) error {
	return t.update(func(s *State) { s.Running, s.RunningSince, s.Heartbeat, s.Began = job, now, now, nil })
}

// ServiceStarted records, before it does anything, that the job in progress began a
// service.
func (t *Tracker) ServiceStarted(service string) error {
	return t.update(func(s *State) {
		if !slices.Contains(s.Began, service) {
			s.Began = append(s.Began, service)
		}
	})
}

// ServiceDone records a service's outcome as the job in progress (up) settles it.
func (t *Tracker) ServiceDone(svc report.Service) error {
	return t.update(func(s *State) {
		s.Began = slices.DeleteFunc(s.Began, func(b string) bool { return b == svc.Service })
		recordService(s, s.RunningSince, svc)
	})
}

// Skipped counts a skipped tick of job.
func (t *Tracker) Skipped(job string) error {
	return t.update(func(s *State) {
		j := s.Jobs[job]
		j.Skipped++
		s.Jobs[job] = j
	})
}

// Done records job's outcome and the next ticks.
func (t *Tracker) Done(job string, run report.Run, next map[string]time.Time) error {
	return t.update(func(s *State) {
		s.Running, s.RunningSince, s.Began = "", time.Time{}, nil
		if run.Machine != "" {
			s.Machine = run.Machine
		}
		j := s.Jobs[job]
		j.LastRun, j.LastStatus, j.LastError = run.Started, run.Status, run.Error
		s.Jobs[job] = j
		setNext(s, next)
		switch run.Command {
		case report.CommandVerify:
			return // a service's state is its backups': a drill's outcome is its job's only
		case report.CommandCopy:
			recordCopies(s, run)
			return
		}
		for _, svc := range run.Services {
			recordService(s, run.Started, svc)
		}
	})
}

// CopyDone records a copy that ran within another job (after a scheduled up).
func (t *Tracker) CopyDone(run report.Run) error {
	return t.update(func(s *State) { recordCopies(s, run) })
}

// recordCopies records each copy repository's outcome of a copy run.
func recordCopies(s *State, run report.Run) {
	if s.Copies == nil {
		s.Copies = map[string]CopyState{}
	}
	for _, c := range run.Services {
		if c.Status == report.StatusSkipped {
			continue
		}
		st := s.Copies[c.Service]
		st.LastRun, st.LastStatus, st.LastError = run.Started, c.Status, c.Error
		if c.Status == report.StatusOK || c.Status == report.StatusWarning {
			st.LastSuccess = run.Started
		}
		s.Copies[c.Service] = st
	}
}

// recordService records a service's backup in a run that started at started. Strategy
// none's skip is nothing to record; a service its stopped run never began is.
func recordService(s *State, started time.Time, svc report.Service) {
	if svc.Status == report.StatusSkipped && svc.Error != report.NotBegun {
		return
	}
	st := s.Services[svc.Service]
	st.LastRun, st.LastStatus, st.LastError = started, svc.Status, svc.Error
	if svc.Status == report.StatusOK || svc.Status == report.StatusWarning {
		st.LastSuccess, st.LastSnapshot = started, svc.Snapshot
	}
	s.Services[svc.Service] = st
}

func setNext(s *State, next map[string]time.Time) {
	for name, at := range next {
		j := s.Jobs[name]
		j.Next = at
		s.Jobs[name] = j
	}
}

// writeJSON writes v to path atomically, creating its folder.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing the scheduler's state: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the scheduler's state: %w", err)
	}
	return nil
}

// ParseState reads a state file's content.
func ParseState(data []byte) (State, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("reading the scheduler's state: %w", err)
	}
	return s, nil
}
