package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// Stopped are the service containers a run stopped for a while. Each has a stop record
// (a labelled volume) made before the stop began and removed once it runs again, so a
// run killed at any point leaves the next one what to start.
type Stopped struct {
	run     *Run
	entries []stoppedEntry
}

type stoppedEntry struct {
	c      engine.Container
	record string
}

// Stop stops the running containers among cs, recording each first. The stops are
// not cancelled half-way; once ctx is cancelled no further one begins. On error the
// returned Stopped holds those stopped so far, to be started again.
func (r *Run) Stop(ctx context.Context, service string, cs []engine.Container) (*Stopped, error) {
	s := &Stopped{run: r}
	for _, c := range cs {
		if !c.Running {
			continue
		}
		if err := ctx.Err(); err != nil {
			return s, err
		}
		record := recordName(r.ID, c.ID)
		labels := map[string]string{helper.LabelProject: r.Identity.Project, helper.LabelRun: r.ID, helper.LabelService: service, helper.LabelStopped: c.ID}
		if err := engine.CreateVolume(ctx, r.API, record, labels); err != nil {
			return s, fmt.Errorf("recording container %s before stopping it: %w", c.Name, err)
		}
		s.entries = append(s.entries, stoppedEntry{c: c, record: record})
		if err := engine.StopContainer(ctx, r.API, c); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Leave gives up starting the stopped containers again: their records stay, and the
// next run of the project starts them once it has recovered what this one left.
func (s *Stopped) Leave() { s.entries = nil }

// Count is how many containers are stopped.
func (s *Stopped) Count() int { return len(s.entries) }

// Restart starts the stopped containers again, whatever ctx says, and removes their
// records; later calls do nothing. A container that no longer exists is a warning. A
// container that does not start keeps its record, so the next run tries again.
func (s *Stopped) Restart(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	entries := s.entries
	s.entries = nil
	var first error
	for _, e := range entries {
		err := engine.StartContainer(ctx, s.run.API, e.c.ID)
		switch {
		case errors.Is(err, engine.ErrContainerGone):
			s.run.warn(fmt.Sprintf("container %s no longer exists: nothing to start again", e.c.Name))
		case err != nil:
			if first == nil {
				first = err
			}
			continue
		}
		if err := engine.RemoveVolume(ctx, s.run.API, e.record); err != nil {
			s.run.warn(fmt.Sprintf("could not remove stop record %s: %v", e.record, err))
		}
	}
	return first
}
