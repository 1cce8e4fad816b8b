package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
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
	// ServiceStates are the scheduler's last runs of each service.
	ServiceStates map[string]schedule.ServiceState `json:"-"`
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
	view := BuildStatus(plan, s.identity.Machine, snapshot.Confirmed(snaps), sched)
	return &view, nil
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
		Busy: st.Running, Jobs: st.Jobs, Interrupted: st.Interrupted, ServiceStates: st.Services}, nil
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
