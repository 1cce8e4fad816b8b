package schedule

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/report"
	"github.com/docker-backup/docker-backup/swap"
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
	// Running names the job in progress, if any.
	Running  string                  `json:"running,omitempty"`
	Jobs     map[string]JobState     `json:"jobs"`
	Services map[string]ServiceState `json:"services"`
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
}

// Tracker keeps a State up to date from the scheduler's events and writes it to a
// file after each change (atomically: a reader never sees half of it).
type Tracker struct {
	path string
	mu   sync.Mutex
	s    State
}

// NewTracker starts the state of project's scheduler; path may be empty (no file).
func NewTracker(path, project string, jobs []Job, now time.Time) *Tracker {
	t := &Tracker{path: path, s: State{Project: project, Started: now, Heartbeat: now,
		Jobs: map[string]JobState{}, Services: map[string]ServiceState{}}}
	for _, j := range jobs {
		t.s.Jobs[j.Name] = JobState{Schedule: j.Spec}
	}
	return t
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

// Started records that job began.
func (t *Tracker) Started(job string, now time.Time) error {
	return t.update(func(s *State) { s.Running, s.Heartbeat = job, now })
}

// Skipped counts a skipped tick of job.
func (t *Tracker) Skipped(job string) error {
	return t.update(func(s *State) {
		j := s.Jobs[job]
		j.Skipped++
		s.Jobs[job] = j
	})
}

// Done records a job's outcome and the next ticks.
func (t *Tracker) Done(run report.Run, next map[string]time.Time) error {
	return t.update(func(s *State) {
		s.Running = ""
		if run.Machine != "" {
			s.Machine = run.Machine
		}
		j := s.Jobs[run.Command]
		j.LastRun, j.LastStatus, j.LastError = run.Started, run.Status, run.Error
		s.Jobs[run.Command] = j
		setNext(s, next)
		for _, svc := range run.Services {
			// A service's state is its backups': a drill's outcome is its job's only.
			if svc.Status == report.StatusSkipped || run.Command == report.CommandVerify {
				continue
			}
			st := s.Services[svc.Service]
			st.LastRun, st.LastStatus, st.LastError = run.Started, svc.Status, svc.Error
			if svc.Status != report.StatusFailed {
				st.LastSuccess, st.LastSnapshot = run.Started, svc.Snapshot
			}
			s.Services[svc.Service] = st
		}
	})
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
	if err := swap.WriteFileDurably(path, append(data, '\n')); err != nil {
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
