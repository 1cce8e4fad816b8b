package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// tasksPoll is how often a run looks whether a scaled service's tasks have ended.
const tasksPoll = 500 * time.Millisecond

// scaledBackWait bounds how long recovery waits for a service it scaled back to run
// again: an image that no longer starts is the service's problem, not the run's.
const scaledBackWait = 2 * time.Minute

// Scaled is a swarm service the run scaled to 0 for a copy (stop: true on a stack).
// Its count and the run are recorded on the service itself, in the update that scaled
// it (engine.ScaleToZero), so a run killed at any point leaves the next one what to
// give back. Its task's container is never stopped directly: swarm would start a
// replacement.
type Scaled struct {
	run      *Run
	id, name string
	from     uint64
}

// ScaleToZero scales the replicated swarm service serviceID (name, swarm's) to 0 and
// waits until its tasks have ended. On error the returned Scaled is still to be
// scaled back: the update may have reached the engine.
func (r *Run) ScaleToZero(ctx context.Context, serviceID, name string) (*Scaled, error) {
	s := &Scaled{run: r, id: serviceID, name: name}
	from, err := engine.ScaleToZero(ctx, r.API, serviceID, r.ID)
	if err != nil {
		return s, err
	}
	s.from = from
	if err := engine.WaitTasksEnded(ctx, r.API, serviceID, tasksPoll); err != nil {
		return s, err
	}
	return s, nil
}

// From is the count the service had, and is given back.
func (s *Scaled) From() uint64 { return s.from }

// ScaleBack gives the service its count back, whatever ctx says, and removes the
// record; later calls do nothing, and so does a service this run did not scale. An
// update that fails leaves the record: the next run gives the count back.
func (s *Scaled) ScaleBack(ctx context.Context) error {
	if s == nil || s.run == nil {
		return nil
	}
	r := s.run
	s.run = nil
	if _, err := engine.ScaleBack(context.WithoutCancel(ctx), r.API, s.id, r.ID); err != nil {
		return fmt.Errorf("scaling service %s back to %d replicas (the next run of the project does): %w", s.name, s.from, err)
	}
	return nil
}

// scaleBackDead gives their counts back to the stack's services that dead runs scaled
// to 0, one line each; a service this run scaled, or another stack's, is left alone.
// The run holds the project's anchor, so every other run of the project is dead. A
// service that cannot be scaled back now is a warning: the next run tries again.
func (r *Run) scaleBackDead(ctx context.Context) error {
	scaled, err := engine.ScaledServices(ctx, r.API)
	if err != nil {
		return fmt.Errorf("looking for what earlier runs left: %w", err)
	}
	for _, s := range scaled {
		if s.Namespace != r.Identity.Project || s.Run == r.ID {
			continue
		}
		ok, err := engine.ScaleBack(ctx, r.API, s.ID, s.Run)
		switch {
		case err != nil:
			r.warn(fmt.Sprintf("%v (scaled to 0 by interrupted run %s; the next run tries again)", err, s.Run))
		case ok:
			r.warn(fmt.Sprintf("scaled service %s back to %d replicas: interrupted run %s had scaled it to 0", s.Name, s.From, s.Run))
			r.restarted = append(r.restarted, Restart{Container: s.ID, Service: strings.TrimPrefix(s.Name, s.Namespace+"_"), At: time.Now()})
			// Running again before the command goes on: up finds its task, and its node.
			wctx, cancel := context.WithTimeout(ctx, scaledBackWait)
			if err := engine.WaitTasksRunning(wctx, r.API, s.ID, s.From, tasksPoll); err != nil && ctx.Err() == nil {
				r.warn(fmt.Sprintf("service %s is scaled back, but its tasks do not run yet: %v", s.Name, err))
			}
			cancel()
		}
	}
	return nil
}
