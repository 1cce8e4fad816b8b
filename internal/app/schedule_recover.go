package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// diedCause is how a job the scheduler left in progress ended, as the next one knows
// it: its process was gone (docker kill, an OOM kill, the host going down).
const diedCause = "the scheduler died during the run"

// recover finishes, as the scheduler starts and before its first tick, what
// dead runs of the project left: a run of its own that it was killed during (known
// from its state, written before each run and service began), or any other (a killed
// `up` from the host). It begins a run for that recovery alone (run.Begin recovers;
// the repository is not opened), logs each thing recovery did, and records the dead
// run as interrupted in the state, with the containers started again and when. A
// recovery that cannot happen now (another run holds the project past the wait) is a
// warning: the next run recovers. Only a stop (SIGTERM) meanwhile ends the scheduler.
func (sc *scheduler) recover(ctx context.Context, plan *composeext.Plan) error {
	left := sc.tracker.Left()
	api, err := sc.a.Docker()
	if err != nil {
		return err
	}
	find := run.FindLeftovers
	if sc.clusterID != nil {
		// A stack's dead runs leave jobs and secrets on the swarm too (and, with stop:
		// true, services scaled to 0: see run.FindStackLeftovers).
		find = run.FindStackLeftovers
	}
	leftovers, lerr := find(ctx, api, plan.Project)
	if lerr != nil {
		sc.log.printf("warning: %v", lerr)
	}
	// A dead run of ours is recovered even when nothing seems left: its anchor may not
	// have exited yet, so what it left does not count as left until it has.
	if left == nil && (lerr != nil || leftovers.Empty()) {
		return nil
	}
	in := schedule.Interruption{Found: time.Now()}
	if left != nil {
		in = *left
		in.Found, in.Cause = time.Now(), diedCause
		sc.log.printf("%s started at %s was interrupted: %s; recovering", left.Job, left.Started.Local().Format(time.DateTime), diedCause)
	} else {
		in.Cause = "a dead run (" + strings.Join(leftovers.Runs, "; ") + ")"
		sc.log.printf("recovering what %s left", in.Cause)
	}
	var restarts []run.Restart
	err = func() error {
		s, err := sc.a.connect(ctx, plan)
		if err != nil {
			return err
		}
		if sc.clusterID != nil {
			// The stack's identity and a swarm run: Begin removes dead runs' jobs and
			// secrets and clears their locks (the hostname of each run and node).
			s.identity = run.IdentifyStack(plan.Project, plan.Host, *sc.clusterID)
		}
		r, err := s.begin(ctx, plan, "recover", sc.opts.Run, beginOptions{listed: true, stack: sc.clusterID != nil}, func(msg string) {
			msg = plan.Mask(msg)
			in.Log = append(in.Log, msg)
			sc.log.printf("recovery: %s", msg)
		})
		if err != nil {
			return err
		}
		restarts = r.Restarted()
		r.End(ctx)
		if leftovers.Jobs > 0 {
			msg := fmt.Sprintf("removed %d swarm job(s) of the dead run and their secrets", leftovers.Jobs)
			in.Log = append(in.Log, msg)
			sc.log.printf("recovery: %s", msg)
		}
		return nil
	}()
	if ctx.Err() != nil {
		return nil // stopped meanwhile: the loop is not entered, and the next start recovers
	}
	if err != nil {
		msg := plan.Mask(report.OneLine(fmt.Sprintf("could not recover now: %v (the next run does)", err)))
		in.Log = append(in.Log, msg)
		sc.log.printf("warning: %s", msg)
	}
	for _, rs := range restarts {
		in.Restarted = append(in.Restarted, schedule.Restart{Service: rs.Service, Container: engine.ShortID(rs.Container), At: rs.At})
	}
	sc.log.printf("recovered: %s", DescribeRecovery(in))
	sc.warn(sc.tracker.Recovered(in))
	if left != nil && left.Job == "up" {
		sc.notifyDied(ctx, plan, in)
	}
	return nil
}

// DescribeRecovery says what recovery did in a few words.
func DescribeRecovery(in schedule.Interruption) string {
	if len(in.Restarted) == 0 {
		return "no service was left stopped"
	}
	var started []string
	for _, r := range in.Restarted {
		name := r.Service
		if name == "" {
			name = "container " + r.Container
		}
		started = append(started, fmt.Sprintf("%s started again at %s", name, r.At.Local().Format(time.TimeOnly)))
	}
	return strings.Join(started, ", ")
}

// notifyDied tells the alerts that the scheduled backup a dead scheduler left never
// ended, as an interrupted run: its start ping was sent, its end never was.
func (sc *scheduler) notifyDied(ctx context.Context, plan *composeext.Plan, in schedule.Interruption) {
	rep := report.Run{Command: "up", Project: plan.Project, Machine: sc.tracker.Snapshot().Machine, Started: in.Started,
		Duration: in.Found.Sub(in.Started)}
	for _, svc := range in.Began {
		rep.Services = append(rep.Services, report.Service{Service: svc, Status: report.StatusFailed})
	}
	report.Interrupt(&rep, func(string) bool { return true }, func(string) bool { return false })
	rep.Error = diedCause
	if len(in.Began) > 0 {
		rep.Error += ": " + strings.Join(in.Began, ", ") + " interrupted"
	}
	newRunNotifier(ctx, plan, false, func(msg string) { sc.log.printf("warning: %s", msg) }).done(ctx, rep)
}
