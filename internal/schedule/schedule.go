// Package schedule runs a project's jobs (its backup, check and prune) on their cron
// schedules (robfig/cron), one at a time: a tick that comes while a job runs is skipped
// and logged. When its context ends, the job in progress is ended through the same
// context and waited for; Run then returns.
package schedule

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/docker-backup/docker-backup/internal/report"
)

// Job is one scheduled command.
type Job struct {
	// Name is the command it runs: "up", "check", "prune", "verify", or "copy NAME"
	// for a copy on its own schedule.
	Name string
	// Spec is its cron expression: 5 fields or @daily-style.
	Spec string
	// Run runs it once. Its context ends when the scheduler is stopped: it must then
	// undo what it did (start stopped services again) before it returns.
	Run func(ctx context.Context) report.Run
}

// Options configure Run.
type Options struct {
	Jobs []Job
	// Location is the time zone of the schedules (time.Local honours TZ).
	Location *time.Location
	// Log gets one line per event: a start, an end, a skipped tick.
	Log func(string)
	// Started is called as a job begins, with when its next tick is.
	Started func(job string, at time.Time)
	// Done is called with each job's name, its outcome and the next ticks of every job.
	Done func(job string, run report.Run, next map[string]time.Time)
	// Skipped is called for a tick that came while another job was running.
	Skipped func(job string, at time.Time)
	// Ready is called once the jobs are scheduled, with their first ticks.
	Ready func(next map[string]time.Time)
}

// Run schedules the jobs and returns when ctx ends and the job in progress, if any,
// has returned. It fails only on a spec cron does not accept.
func Run(ctx context.Context, opts Options) error {
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	c := cron.New(cron.WithLocation(loc))
	s := &scheduler{opts: opts, cron: c, ids: map[string]cron.EntryID{}}
	for _, j := range opts.Jobs {
		id, err := c.AddFunc(j.Spec, func() { s.tick(ctx, j) })
		if err != nil {
			return fmt.Errorf("schedule of %s %q: %w", j.Name, j.Spec, err)
		}
		s.ids[j.Name] = id
	}
	c.Start()
	if opts.Ready != nil {
		opts.Ready(s.next())
	}
	<-ctx.Done()
	// Stop ends the ticks; its context is done once the running job has returned.
	<-c.Stop().Done()
	return nil
}

// scheduler holds which job is running, so that a tick of any job during it is skipped.
type scheduler struct {
	opts Options
	cron *cron.Cron
	ids  map[string]cron.EntryID

	mu      sync.Mutex
	running string
	since   time.Time
}

// tick runs j unless a job is running.
func (s *scheduler) tick(ctx context.Context, j Job) {
	now := time.Now().In(s.location())
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	if s.running != "" {
		running, since := s.running, s.since
		s.mu.Unlock()
		s.log(fmt.Sprintf("%s: tick of %s skipped: %s started at %s is still running",
			j.Name, now.Format(time.TimeOnly), running, since.Format(time.TimeOnly)))
		if s.opts.Skipped != nil {
			s.opts.Skipped(j.Name, now)
		}
		return
	}
	s.running, s.since = j.Name, now
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = ""
		s.mu.Unlock()
	}()

	s.log(fmt.Sprintf("%s: started (tick of %s)", j.Name, now.Format(time.TimeOnly)))
	if s.opts.Started != nil {
		s.opts.Started(j.Name, s.next()[j.Name])
	}
	run := j.Run(ctx)
	next := s.next()
	line := fmt.Sprintf("%s: %s in %s", j.Name, run.Status, run.Duration.Round(100*time.Millisecond))
	if run.Error != "" {
		line += ": " + run.Error
	}
	if ctx.Err() == nil {
		line += "; next at " + next[j.Name].Format(time.DateTime)
	}
	s.log(line)
	if s.opts.Done != nil {
		s.opts.Done(j.Name, run, next)
	}
}

// next returns the next tick of every job.
func (s *scheduler) next() map[string]time.Time {
	out := map[string]time.Time{}
	for name, id := range s.ids {
		e := s.cron.Entry(id)
		t := e.Next
		if t.IsZero() && e.Schedule != nil {
			t = e.Schedule.Next(time.Now().In(s.location()))
		}
		out[name] = t
	}
	return out
}

func (s *scheduler) location() *time.Location {
	if s.opts.Location != nil {
		return s.opts.Location
	}
	return time.Local
}

func (s *scheduler) log(line string) {
	if s.opts.Log != nil {
		s.opts.Log(line)
	}
}
