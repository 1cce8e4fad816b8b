package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/schedule"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// statusOptions holds the status command's flags and dependencies.
type statusOptions struct {
	load      composeext.LoadOptions
	json      bool
	stateFile string
	d         *deps
}

func newStatusCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "Show each service's last run, last success, last snapshot and next run",
		UsageText: appName(d) + " status [OPTIONS]\n\n" +
			"From the repository (the snapshots) and the project's scheduler service, if one runs\n" +
			"(the failed runs, the next ticks). Works from the host and in the scheduler's container.",
		Flags: withProjectFlags(
			&cli.BoolFlag{Name: "json", Usage: "Print the status as JSON"},
			&cli.StringFlag{Name: "state-file", Usage: "Read the scheduler's state from this file instead of its container"},
		),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runStatus(c.Context, &statusOptions{load: load, json: c.Bool("json"), stateFile: c.String("state-file"), d: d})
		},
	}
}

// statusView is what status shows.
type statusView struct {
	Project   string          `json:"project"`
	Machine   string          `json:"machine"`
	Schedule  string          `json:"schedule,omitempty"`
	Scheduler *schedulerView  `json:"scheduler,omitempty"`
	Services  []serviceStatus `json:"services"`
}

// schedulerView is the project's scheduler as status found it.
type schedulerView struct {
	Container string                       `json:"container,omitempty"`
	Running   bool                         `json:"running"`
	Started   time.Time                    `json:"started"`
	Heartbeat time.Time                    `json:"heartbeat"`
	Busy      string                       `json:"busy,omitempty"`
	Jobs      map[string]schedule.JobState `json:"jobs"`
	// Interrupted is the last dead run the scheduler found at its start and recovered.
	Interrupted *schedule.Interruption `json:"interrupted,omitempty"`
	// services are the scheduler's last runs of each service.
	services map[string]schedule.ServiceState
}

// serviceStatus is one service's row.
type serviceStatus struct {
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

func runStatus(ctx context.Context, opts *statusOptions) error {
	self, plan, err := loadOwnPlan(ctx, opts.d, &opts.load)
	if err != nil {
		return err
	}
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return err
	}
	warnLeftovers(ctx, s.api, plan.Project, warnTo(opts.d.streams.Err))
	snaps, err := restic.Snapshots(ctx, s.runner, snapshot.ProjectFilter(s.identity))
	if err != nil && !errors.Is(err, restic.ErrRepoNotFound) {
		return fmt.Errorf("repository %s: %w", plan.Repository.Where(), err)
	}
	sched, err := findScheduler(ctx, opts, s.api, plan, self)
	if err != nil {
		fmt.Fprintf(opts.d.streams.Err, "warning: %v\n", err)
	}
	view := buildStatus(plan, s.identity.Machine, snapshot.Confirmed(snaps), sched)
	if opts.json {
		enc := json.NewEncoder(opts.d.streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(view)
	}
	return writeStatus(opts.d.streams.Out, view)
}

// findScheduler reads the scheduler's state: from --state-file, from this container's
// own file when status runs in the scheduler, else from the project's scheduler
// container (labelled by --print's file). nil, nil: there is none.
func findScheduler(ctx context.Context, opts *statusOptions, api engine.API, plan *composeext.Plan, self string) (*schedulerView, error) {
	read := func(data []byte, container string, running bool) (*schedulerView, error) {
		st, err := schedule.ParseState(data)
		if err != nil {
			return nil, err
		}
		return &schedulerView{Container: container, Running: running, Started: st.Started, Heartbeat: st.Heartbeat,
			Busy: st.Running, Jobs: st.Jobs, Interrupted: st.Interrupted, services: st.Services}, nil
	}
	if file := opts.stateFile; file != "" || self != "" {
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
		return read(data, engine.ShortID(self), true)
	}
	found, err := engine.ContainersWithLabels(ctx, api, engine.LabelProject+"="+plan.Project, SchedulerLabel+"=true")
	if err != nil || len(found) == 0 {
		return nil, err
	}
	c := found[0]
	for _, f := range found {
		if f.Running {
			c = f
		}
	}
	data, err := engine.ReadFile(ctx, api, c.ID, schedule.StateFile)
	if errors.Is(err, engine.ErrNoFile) {
		return &schedulerView{Container: c.Name, Running: c.Running}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the scheduler's state: %w", err)
	}
	return read(data, c.Name, c.Running)
}

// buildStatus joins the plan, the confirmed snapshots and the scheduler's state.
func buildStatus(plan *composeext.Plan, machine string, snaps []restic.Snapshot, sched *schedulerView) statusView {
	view := statusView{Project: plan.Project, Machine: machine, Schedule: plan.Schedule, Scheduler: sched, Services: []serviceStatus{}}
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
		row := serviceStatus{Service: svc.Name, Strategy: string(svc.Strategy)}
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
			if st, ok := sched.services[svc.Name]; ok && (row.LastRun == nil || !st.LastRun.Before(*row.LastRun)) {
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

// writeStatus prints the status as a table.
func writeStatus(w io.Writer, v statusView) error {
	switch s := v.Scheduler; {
	case s == nil:
		fmt.Fprintf(w, "project %s on %s: no scheduler service (docker backup schedule --print)\n", v.Project, v.Machine)
	case !s.Running:
		fmt.Fprintf(w, "project %s on %s: scheduler %s is not running\n", v.Project, v.Machine, s.Container)
	default:
		busy := "idle"
		if s.Busy != "" {
			busy = "running " + s.Busy
		}
		fmt.Fprintf(w, "project %s on %s: scheduler %s %s, on %q, heartbeat %s\n", v.Project, v.Machine, s.Container, busy, v.Schedule, s.Heartbeat.Local().Format(time.DateTime))
	}
	if s := v.Scheduler; s != nil && s.Interrupted != nil && !s.Jobs["up"].LastRun.After(s.Interrupted.Found) {
		// Until the next backup: then it is history, and its rows are that backup's.
		fmt.Fprintln(w, interruptedLine(s.Interrupted))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTRATEGY\tLAST RUN\tSTATUS\tLAST SUCCESS\tLAST SNAPSHOT\tNEXT RUN")
	for _, r := range v.Services {
		status := orDash(r.LastStatus)
		if r.LastError != "" {
			status += ": " + r.LastError
		}
		if r.StartedAgain != nil {
			status += " (left stopped, started again " + when(r.StartedAgain) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Service, r.Strategy, when(r.LastRun), status,
			when(r.LastSuccess), orDash(r.LastSnapshot), when(r.NextRun))
	}
	return tw.Flush()
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// interruptedLine says in one line which dead run the scheduler found at its start and
// what its recovery did: "interrupted run: up of 2026-12-01 03:00:00 (the scheduler
// died during the run), found 2026-12-01 09:12:40: files started again at 09:12:41".
func interruptedLine(in *schedule.Interruption) string {
	what := in.Cause
	if in.Job != "" {
		what = fmt.Sprintf("%s of %s (%s)", in.Job, in.Started.Local().Format(time.DateTime), in.Cause)
	}
	return fmt.Sprintf("interrupted run: %s, found %s: %s", what, in.Found.Local().Format(time.DateTime), describeRecovery(*in))
}
