package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/copies"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/schedule"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// StatusView is what status shows.
type StatusView struct {
	Project   string          `json:"project"`
	Machine   string          `json:"machine"`
	Schedule  string          `json:"schedule,omitempty"`
	Scheduler *SchedulerView  `json:"scheduler,omitempty"`
	Services  []ServiceStatus `json:"services"`
	// Copies are the copy repositories of x-backup.copies, as they stand against the
	// primary.
	Copies []CopyStatus `json:"copies,omitempty"`
}

// CopyStatus is one copy repository's row: its newest snapshot, how far it lags the
// primary (copies.Stand), the scheduler's last copy to it, and its problem, if any.
type CopyStatus struct {
	Copy       string `json:"copy"`
	Repository string `json:"repository"`
	// Newest is the time of the newest snapshot the copy holds of this machine's
	// series, NewestSnapshot its ID there; nil when it holds none.
	Newest         *time.Time `json:"newest,omitempty"`
	NewestSnapshot string     `json:"newest_snapshot,omitempty"`
	// Behind counts the primary's confirmed snapshots it lacks, newer than its newest
	// of their series; Lag is the age of the oldest of them (0: none).
	Behind     int        `json:"behind"`
	Lag        string     `json:"lag"`
	LagSeconds float64    `json:"lag_seconds"`
	MaxLag     string     `json:"max_lag,omitempty"`
	LastRun    *time.Time `json:"last_run,omitempty"`
	LastStatus string     `json:"last_status,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	// Problem is why the row needs attention: the copy repository could not be read,
	// or it lags more than its max_lag. status then exits 1.
	Problem string `json:"problem,omitempty"`
}

// CopyProblems are the problems of the copies, one line each ("copy offsite: …").
func (v StatusView) CopyProblems() []string {
	var out []string
	for _, c := range v.Copies {
		if c.Problem != "" {
			out = append(out, "copy "+c.Copy+": "+c.Problem)
		}
	}
	return out
}

// SchedulerView is the project's scheduler as status found it.
type SchedulerView struct {
	Container string                       `json:"container,omitempty"`
	Running   bool                         `json:"running"`
	Started   time.Time                    `json:"started"`
	Heartbeat time.Time                    `json:"heartbeat"`
	Busy      string                       `json:"busy,omitempty"`
	Jobs      map[string]schedule.JobState `json:"jobs"`
	// Interrupted is the last dead run the scheduler found at its start and recovered.
	Interrupted *schedule.Interruption `json:"interrupted,omitempty"`
	// ServiceStates are the scheduler's last runs of each service, CopyStates its last
	// copies to each copy repository.
	ServiceStates map[string]schedule.ServiceState `json:"-"`
	CopyStates    map[string]schedule.CopyState    `json:"-"`
}

// ServiceStatus is one service's row.
type ServiceStatus struct {
	Service      string     `json:"service"`
	Strategy     string     `json:"strategy"`
	LastRun      *time.Time `json:"last_run,omitempty"`
	LastStatus   string     `json:"last_status,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	LastSuccess  *time.Time `json:"last_success,omitempty"`
	LastSnapshot string     `json:"last_snapshot,omitempty"`
	NextRun      *time.Time `json:"next_run,omitempty"`
	// StartedAgain is when the scheduler's recovery started the service again, after
	// its last run (interrupted) had left it stopped.
	StartedAgain *time.Time `json:"started_again,omitempty"`
}

// Status assembles each service's last run, last success, last snapshot and next run,
// from the repository and the project's scheduler. stateFile, when set, is where the
// scheduler's state is read instead of its container.
func (a *App) Status(ctx context.Context, load composeext.LoadOptions, stateFile string, sink Sink) (*StatusView, error) {
	self, plan, err := a.loadOwnPlan(ctx, &load)
	if err != nil {
		return nil, err
	}
	warn := WarnFunc(sink)
	st, info, err := a.findStack(ctx, plan.Project, "status", warn)
	if err != nil {
		return nil, err
	}
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	if st != nil {
		// The stack's one series, whichever node ran its tasks.
		s.identity = run.IdentifyStack(plan.Project, plan.Host, info.Swarm.ClusterID)
	}
	warnLeftovers(ctx, s.api, plan.Project, warn)
	snaps, err := restic.Snapshots(ctx, s.runner, snapshot.ProjectFilter(s.identity))
	if err != nil && !errors.Is(err, restic.ErrRepoNotFound) {
		return nil, fmt.Errorf("repository %s: %w", plan.Repository.Where(), err)
	}
	find := findScheduler
	if st != nil && stateFile == "" && self == "" {
		find = findStackScheduler
	}
	sched, err := find(ctx, stateFile, s.api, plan, self)
	if err != nil {
		warn(err.Error())
	}
	confirmed := snapshot.Confirmed(snaps)
	view := BuildStatus(plan, s.identity.Machine, confirmed, sched)
	view.Copies = a.copyStatuses(ctx, s, plan, confirmed, sched, time.Now())
	return &view, nil
}

// copyStatuses are the rows of the plan's copies: each copy repository listed (one
// that cannot be is its problem), stood against the primary's confirmed snapshots.
func (a *App) copyStatuses(ctx context.Context, s *session, plan *composeext.Plan, source []restic.Snapshot, sched *SchedulerView, now time.Time) []CopyStatus {
	var out []CopyStatus
	for _, c := range plan.Copies {
		row := CopyStatus{Copy: c.Name, Repository: c.Repository.Where(), Lag: "0s"}
		if c.MaxLag > 0 {
			row.MaxLag = time.Duration(c.MaxLag).String()
		}
		if sched != nil {
			if st, ok := sched.CopyStates[c.Name]; ok {
				t := st.LastRun
				row.LastRun, row.LastStatus, row.LastError = &t, string(st.LastStatus), st.LastError
			}
		}
		held, err := a.copySnapshots(ctx, s, c)
		if err != nil {
			row.Problem = report.OneLine(plan.Mask(err.Error()))
			out = append(out, row)
			continue
		}
		st := copies.Stand(source, held, now)
		if st.Newest != nil {
			t := st.Newest.Time
			row.Newest, row.NewestSnapshot = &t, st.Newest.ShortID
		}
		row.Behind, row.Lag, row.LagSeconds = st.Behind, st.Lag.Round(time.Second).String(), st.Lag.Seconds()
		if c.MaxLag > 0 && st.Lag > time.Duration(c.MaxLag) {
			row.Problem = lagProblem(c, st)
		}
		out = append(out, row)
	}
	return out
}

// findScheduler reads the scheduler's state: from --state-file, from this container's
// own file when status runs in the scheduler, else from the project's scheduler
// container (labelled by --print's file). nil, nil: there is none.
func findScheduler(ctx context.Context, stateFile string, api engine.API, plan *composeext.Plan, self string) (*SchedulerView, error) {
	if file := stateFile; file != "" || self != "" {
		if file == "" {
			file = schedule.StateFile
		}
		data, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the scheduler's state: %w", err)
		}
		return schedulerView(data, engine.ShortID(self), true)
	}
	found, err := engine.ContainersWithLabels(ctx, api, engine.LabelProject+"="+plan.Project, SchedulerLabel+"=true")
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return readSchedulerContainer(ctx, api, found)
}

// readSchedulerContainer reads the state of the running one of the scheduler's
// containers found (else the first).
func readSchedulerContainer(ctx context.Context, api engine.API, found []engine.Owned) (*SchedulerView, error) {
	c := found[0]
	for _, f := range found {
		if f.Running {
			c = f
		}
	}
	data, err := engine.ReadFile(ctx, api, c.ID, schedule.StateFile)
	if errors.Is(err, engine.ErrNoFile) {
		return &SchedulerView{Container: c.Name, Running: c.Running}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the scheduler's state: %w", err)
	}
	return schedulerView(data, c.Name, c.Running)
}

// schedulerView is the scheduler's state file as status shows it.
func schedulerView(data []byte, container string, running bool) (*SchedulerView, error) {
	st, err := schedule.ParseState(data)
	if err != nil {
		return nil, err
	}
	return &SchedulerView{Container: container, Running: running, Started: st.Started, Heartbeat: st.Heartbeat,
		Busy: st.Running, Jobs: st.Jobs, Interrupted: st.Interrupted, ServiceStates: st.Services, CopyStates: st.Copies}, nil
}

// BuildStatus joins the plan, the confirmed snapshots and the scheduler's state.
func BuildStatus(plan *composeext.Plan, machine string, snaps []restic.Snapshot, sched *SchedulerView) StatusView {
	view := StatusView{Project: plan.Project, Machine: machine, Schedule: plan.Schedule, Scheduler: sched, Services: []ServiceStatus{}}
	latest := map[string]restic.Snapshot{}
	for _, s := range snaps {
		svc := snapshot.Parse(s).Service
		if cur, ok := latest[svc]; !ok || s.Time.After(cur.Time) {
			latest[svc] = s
		}
	}
	// A next run is one a running scheduler will make: without one there is none.
	var next *time.Time
	if sched != nil && sched.Running && !sched.Jobs["up"].Next.IsZero() {
		t := sched.Jobs["up"].Next
		next = &t
	}
	for _, svc := range plan.Services {
		row := ServiceStatus{Service: svc.Name, Strategy: string(svc.Strategy)}
		if svc.Strategy == composeext.StrategyNone {
			view.Services = append(view.Services, row)
			continue
		}
		row.NextRun = next
		if snap, ok := latest[svc.Name]; ok {
			t := snap.Time
			row.LastRun, row.LastSuccess, row.LastSnapshot, row.LastStatus = &t, &t, snap.ShortID, "ok"
		}
		if sched != nil {
			if st, ok := sched.ServiceStates[svc.Name]; ok && (row.LastRun == nil || !st.LastRun.Before(*row.LastRun)) {
				t := st.LastRun
				row.LastRun, row.LastStatus, row.LastError = &t, string(st.LastStatus), st.LastError
				if !st.StartedAgain.IsZero() && !st.StartedAgain.Before(st.LastRun) {
					again := st.StartedAgain
					row.StartedAgain = &again
				}
			}
		}
		view.Services = append(view.Services, row)
	}
	return view
}
