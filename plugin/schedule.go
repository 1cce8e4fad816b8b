package plugin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// scheduleOptions holds the schedule command's flags and dependencies.
type scheduleOptions struct {
	load      composeext.LoadOptions
	print     bool
	service   string
	stateFile string
	// metricsFile is --metrics-file; metrics what the runs record, nil without any.
	metricsFile string
	metrics     *scheduleMetrics
	run         runSettings
	d           *deps
	// tracker is the scheduler's state and log its lines, set as it starts.
	tracker *schedule.Tracker
	log     *scheduleLog
}

// warn logs a failure to record the scheduler's state, which never stops a run.
func (o *scheduleOptions) warn(err error) {
	if err != nil && o.log != nil {
		o.log.printf("warning: %v", err)
	}
}

// heartbeatEvery is how often the scheduler renews its heartbeat between jobs.
const heartbeatEvery = 30 * time.Second

func newScheduleCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "schedule",
		Usage: "Run the project's backups on x-backup.schedule, in the foreground (the scheduler service)",
		UsageText: appName(d) + " schedule [OPTIONS]\n\n" +
			"Runs up (with the retention) on x-backup.schedule, check on x-backup.check.schedule,\n" +
			"prune on x-backup.prune.schedule and verify on x-backup.verify.schedule, one at a time:\n" +
			"a tick during a run is skipped and logged.\n" +
			"SIGTERM ends a run in progress cleanly (stopped services run again; the run is interrupted,\n" +
			"not failed) and exits 0. As it starts, before the first tick, it finishes what a dead run\n" +
			"left (a scheduler killed mid-run: its stopped services run again) and logs what it did.\n" +
			"As a service of the project (see --print) it finds its project by its own container's\n" +
			"compose labels. --print prints that service as a compose file.",
		Flags: append(withProjectFlags(
			&cli.BoolFlag{Name: "print", Usage: "Print a compose file holding the scheduler service for this project, and exit"},
			&cli.StringFlag{Name: "service-name", Value: "docker-backup", Usage: "The scheduler service's name in --print's file"},
			&cli.StringFlag{Name: "state-file", Usage: "Where the scheduler keeps its state for status (default in a container: " + schedule.StateFile + ")"},
			metricsFileFlag(),
		), runFlags()...),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runSchedule(c.Context, &scheduleOptions{
				load:        load,
				print:       c.Bool("print"),
				service:     c.String("service-name"),
				stateFile:   c.String("state-file"),
				metricsFile: c.String("metrics-file"),
				run:         readRunSettings(c),
				d:           d,
			})
		},
	}
}

func runSchedule(ctx context.Context, opts *scheduleOptions) error {
	if opts.print {
		return printScheduler(ctx, opts)
	}
	self, plan, err := loadOwnPlan(ctx, opts.d, &opts.load)
	if err != nil {
		return err
	}
	jobs, err := scheduledJobs(opts, plan)
	if err != nil {
		return err
	}
	stateFile := opts.stateFile
	if stateFile == "" && self != "" {
		stateFile = schedule.StateFile
	}
	log := newScheduleLog(opts.d.streams)
	tracker := schedule.NewTracker(stateFile, plan.Project, jobs, time.Now())
	opts.tracker, opts.log = tracker, log
	warn := opts.warn
	opts.metrics = newScheduleMetrics(opts.metricsFile, plan, func(msg string) { log.printf("warning: %s", msg) })
	stopServing, err := opts.metrics.serve(ctx, plan)
	if err != nil {
		return err
	}
	defer stopServing()
	opts.metrics.heartbeat(time.Now())
	log.printf("scheduler of project %s started (compose files %v, time zone %s)", plan.Project, plan.ComposeFiles, time.Local)
	// Before the first tick, which may be a day away: a service that a dead run (this
	// scheduler, killed) left stopped must not wait for it.
	if err := scheduleRecover(ctx, opts, plan); err != nil {
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
				opts.metrics.heartbeat(now)
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
		Done:    func(run report.Run, next map[string]time.Time) { warn(tracker.Done(run, next)) },
	})
	if err != nil {
		return err
	}
	log.printf("scheduler stopped")
	// Stopping is how a service ends: not an interruption.
	return nil
}

// scheduledJobs are the plan's schedules as jobs: up, and check, prune and verify if set.
func scheduledJobs(opts *scheduleOptions, plan *composeext.Plan) ([]schedule.Job, error) {
	if plan.Schedule == "" {
		return nil, usageErrorf("%s: x-backup.schedule is not set: nothing to schedule (e.g. schedule: \"0 3 * * *\")", firstFile(plan))
	}
	jobs := []schedule.Job{{Name: "up", Spec: plan.Schedule, Run: func(ctx context.Context) report.Run {
		return scheduledUp(ctx, opts)
	}}}
	if plan.Check != nil {
		jobs = append(jobs, schedule.Job{Name: "check", Spec: plan.Check.Schedule, Run: func(ctx context.Context) report.Run {
			return scheduledCheck(ctx, opts)
		}})
	}
	if plan.Prune != nil {
		jobs = append(jobs, schedule.Job{Name: "prune", Spec: plan.Prune.Schedule, Run: func(ctx context.Context) report.Run {
			return scheduledPrune(ctx, opts)
		}})
	}
	if plan.Verify != nil {
		jobs = append(jobs, schedule.Job{Name: "verify", Spec: plan.Verify.Schedule, Run: func(ctx context.Context) report.Run {
			return scheduledVerify(ctx, opts)
		}})
	}
	return jobs, nil
}

// firstFile names the plan's first compose file, for messages.
func firstFile(plan *composeext.Plan) string {
	if len(plan.ComposeFiles) > 0 {
		return plan.ComposeFiles[0]
	}
	return "compose file"
}

// scheduledUp is one scheduled backup: the compose files are read again, so that an
// edited x-backup takes effect at the next tick (a changed schedule needs a restart).
func scheduledUp(ctx context.Context, opts *scheduleOptions) report.Run {
	started := time.Now()
	plan, err := loadPlan(ctx, opts.load, nil)
	if err != nil {
		return failedRun("up", opts.load.ProjectName, started, err)
	}
	reporter := newScheduledReporter(ctx, newReporter(Streams{Out: opts.d.streams.Out, Err: opts.d.streams.Err}, false), plan, opts)
	alerts := newRunNotifier(plan, false, reporter.Warn)
	alerts.start(ctx)
	repo := opts.metrics.repository()
	results, rep, err := backupPlan(ctx, &upOptions{load: opts.load, run: opts.run, metrics: repo, d: opts.d}, plan, reporter)
	if ctx.Err() != nil {
		// Stopped (SIGTERM): interrupted and skipped, not failed; no summary table.
		reporter.interrupt(&rep)
		err = ctx.Err()
	}
	alerts.done(ctx, rep)
	opts.metrics.record(rep, repo)
	if err == nil {
		reporter.Finish(results)
	}
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
	out Streams
}

func newScheduleLog(s Streams) *scheduleLog { return &scheduleLog{out: s} }

func (l *scheduleLog) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out.Out, "%s schedule: %s\n", time.Now().Format(time.RFC3339), s)
}

func (l *scheduleLog) printf(format string, args ...any) { l.line(fmt.Sprintf(format, args...)) }
