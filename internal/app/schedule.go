package app

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/schedule"
	"github.com/docker-backup/docker-backup/restic"
)

// ScheduleOptions are what the scheduler is asked to do.
type ScheduleOptions struct {
	Load composeext.LoadOptions
	// StateFile is where the scheduler keeps its state for status; empty: in a
	// container schedule.StateFile, else none.
	StateFile string
	// MetricsFile, when set, gets each run's outcome as Prometheus metrics.
	MetricsFile string
	Run         RunSettings
	// ServiceName is the scheduler service's name in PrintScheduler's file.
	ServiceName string
	// Log gets the scheduler's lines and its jobs' output.
	Log io.Writer
	// UpView and VerifyView render a scheduled up's and drill's events into Log; nil:
	// nothing is shown of them.
	UpView, VerifyView func() Sink
	// CopyView renders a scheduled copy's events into Log; nil: nothing is shown.
	CopyView func() Sink
}

// scheduler is a running scheduler: its options, its state, its metrics and its log.
type scheduler struct {
	a    *App
	opts ScheduleOptions
	// metrics is what the runs record, nil without any.
	metrics *scheduleMetrics
	tracker *schedule.Tracker
	log     *scheduleLog
	// clusterID is the swarm's cluster ID when the project is a swarm stack (it names
	// the stack's series), nil for a compose project.
	clusterID *string
	// afterUp are the copies made at the end of each scheduled up (those without a
	// schedule of their own); held is what each copy repository held when last listed,
	// behind whether it lagged more than its max_lag then (checkCopies).
	afterUp []string
	held    map[string][]restic.Snapshot
	behind  map[string]bool
}

// heartbeatEvery is how often the scheduler renews its heartbeat between jobs.
const heartbeatEvery = 30 * time.Second

// view is the sink that make returns, or one that drops every event.
func view(make func() Sink) Sink {
	if make == nil {
		return SinkFunc(discard)
	}
	return make()
}

// warn logs a failure to record the scheduler's state, which never stops a run.
func (sc *scheduler) warn(err error) {
	if err != nil && sc.log != nil {
		sc.log.printf("warning: %v", err)
	}
}

// Schedule runs the project's jobs on their schedules, one at a time, until ctx ends.
// Stopping is how a scheduler service ends: not an error.
func (a *App) Schedule(ctx context.Context, opts ScheduleOptions) error {
	self, plan, err := a.loadOwnPlan(ctx, &opts.Load)
	if err != nil {
		return err
	}
	sc := &scheduler{a: a, opts: opts, held: map[string][]restic.Snapshot{}, behind: map[string]bool{}}
	jobs, err := sc.jobs(plan)
	if err != nil {
		return err
	}
	log := &scheduleLog{out: opts.Log}
	st, info, err := a.findStack(ctx, plan.Project, "schedule", func(msg string) { log.printf("warning: %s", msg) })
	if err != nil {
		return err
	}
	if st != nil {
		// Its up drives jobs on the stack's nodes (checkStack); recovery is the stack's.
		if err := stackNeeds(plan); err != nil {
			return err
		}
		sc.clusterID = &info.Swarm.ClusterID
	}
	stateFile := opts.StateFile
	if stateFile == "" && self != "" {
		stateFile = schedule.StateFile
	}
	tracker := schedule.NewTracker(stateFile, plan.Project, jobs, time.Now())
	sc.tracker, sc.log = tracker, log
	warn := sc.warn
	sc.metrics = newScheduleMetrics(opts.MetricsFile, plan, func(msg string) { log.printf("warning: %s", msg) })
	stopServing, err := sc.metrics.serve(ctx, plan)
	if err != nil {
		return err
	}
	defer stopServing()
	sc.metrics.heartbeat(time.Now())
	kind := "project"
	if st != nil {
		kind = "swarm stack"
	}
	log.printf("scheduler of %s %s started (compose files %v, time zone %s)", kind, plan.Project, plan.ComposeFiles, time.Local)
	// Before the first tick, which may be a day away: a service that a dead run (this
	// scheduler, killed) left stopped must not wait for it.
	if err := sc.recover(ctx, plan); err != nil {
		return err
	}

	hctx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	go func() {
		tick := time.NewTicker(heartbeatEvery)
		defer tick.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case now := <-tick.C:
				warn(tracker.Heartbeat(now))
				sc.metrics.heartbeat(now)
			}
		}
	}()
	err = schedule.Run(ctx, schedule.Options{
		Jobs: jobs,
		Log:  log.line,
		Ready: func(next map[string]time.Time) {
			for _, j := range jobs {
				log.printf("%s: on %q, first at %s", j.Name, j.Spec, next[j.Name].Format(time.DateTime))
			}
			warn(tracker.Next(next))
		},
		Started: func(job string, _ time.Time) { warn(tracker.Started(job, time.Now())) },
		Skipped: func(job string, _ time.Time) { warn(tracker.Skipped(job)) },
		Done:    func(job string, run report.Run, next map[string]time.Time) { warn(tracker.Done(job, run, next)) },
	})
	if err != nil {
		return err
	}
	log.printf("scheduler stopped")
	return nil
}

// jobs are the plan's schedules as jobs: up, and check, prune and verify if set, and
// the copies with a schedule of their own.
func (sc *scheduler) jobs(plan *composeext.Plan) ([]schedule.Job, error) {
	if plan.Schedule == "" {
		return nil, errNoSchedule(plan)
	}
	jobs := []schedule.Job{{Name: "up", Spec: plan.Schedule, Run: sc.scheduledUp}}
	if plan.Check != nil {
		jobs = append(jobs, schedule.Job{Name: "check", Spec: plan.Check.Schedule, Run: sc.scheduledCheck})
	}
	if plan.Prune != nil {
		jobs = append(jobs, schedule.Job{Name: "prune", Spec: plan.Prune.Schedule, Run: sc.scheduledPrune})
	}
	if plan.Verify != nil {
		jobs = append(jobs, schedule.Job{Name: "verify", Spec: plan.Verify.Schedule, Run: sc.scheduledVerify})
	}
	copyJobs, afterUp := sc.copyJobs(plan)
	sc.afterUp = afterUp
	return append(jobs, copyJobs...), nil
}

// errNoSchedule is a plan without x-backup.schedule, which the scheduler needs.
func errNoSchedule(plan *composeext.Plan) error {
	return usageErrorf("%s: x-backup.schedule is not set: nothing to schedule (e.g. schedule: \"0 3 * * *\")", firstFile(plan))
}

// firstFile names the plan's first compose file, for messages.
func firstFile(plan *composeext.Plan) string {
	if len(plan.ComposeFiles) > 0 {
		return plan.ComposeFiles[0]
	}
	return "compose file"
}

// scheduledUp is one scheduled backup, up's own use case: the compose files are read
// again, so that an edited x-backup takes effect at the next tick (a changed schedule
// needs a restart). Then, within the same job, the copies without a schedule of their
// own; the job's outcome is the up's.
func (sc *scheduler) scheduledUp(ctx context.Context) report.Run {
	rep, _ := sc.a.Up(ctx, UpOptions{Load: sc.opts.Load, Run: sc.opts.Run, scheduler: sc}, view(sc.opts.UpView))
	sc.copyAfterUp(ctx)
	return rep
}

// failedRun is the report of a command that could not begin.
func failedRun(command, project string, started time.Time, err error) report.Run {
	return report.Run{Command: command, Project: project, Started: started, Duration: time.Since(started),
		Status: report.StatusFailed, Error: report.OneLine(err.Error())}
}

// scheduleLog prints the scheduler's lines, each with its time, one at a time.
type scheduleLog struct {
	mu  sync.Mutex
	out io.Writer
}

func (l *scheduleLog) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "%s schedule: %s\n", time.Now().Format(time.RFC3339), s)
}

func (l *scheduleLog) printf(format string, args ...any) { l.line(fmt.Sprintf(format, args...)) }
