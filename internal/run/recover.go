package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// legacyStopped is the label with which versions before runs recorded, on a helper, the
// containers it had stopped (comma-separated IDs).
const legacyStopped = "io.docker-backup.stopped"

// recoverDead cleans up after the project's dead runs. It runs while this run holds the
// project's anchor, so every run ID other than its own is dead: their helpers are
// stopped (a swap is let finish), the containers they stopped are started again (one
// that no longer exists is a warning), the stack's services they scaled to 0 are
// scaled back (on a swarm stack), their stop records and temporary volumes are
// removed. It returns the dead runs that had helpers: their restic locks may remain.
func (r *Run) recoverDead(ctx context.Context) ([]string, error) {
	dead, err := r.removeDeadHelpers(ctx)
	if err != nil {
		return nil, err
	}
	if r.swarm || r.manager {
		if dead, err = r.recoverDeadOnSwarm(ctx, dead); err != nil {
			return nil, err
		}
	}
	return dead, r.settleDeadVolumes(ctx)
}

// removeDeadHelpers stops and removes the helpers of dead runs (a swap is let finish)
// and returns those runs.
func (r *Run) removeDeadHelpers(ctx context.Context) ([]string, error) {
	cs, err := engine.ContainersWithLabels(ctx, r.API, helper.LabelProject+"="+r.Identity.Project)
	if err != nil {
		return nil, fmt.Errorf("looking for what earlier runs left: %w", err)
	}
	var dead []string
	for _, c := range cs {
		id := c.Labels[helper.LabelRun]
		if c.Labels[helper.LabelKind] == helper.KindAnchor || id == r.ID || id == "" && (c.Running || c.Created) || c.Labels[helper.LabelKept] != "" {
			// Ours, or a read-only command's helper: it belongs to no run, changes
			// nothing, and may be about to start.
			continue
		}
		if err := r.removeDeadHelper(ctx, c, id); err != nil {
			return nil, err
		}
		if id != "" && !slices.Contains(dead, id) {
			dead = append(dead, id)
		}
	}
	return dead, nil
}

// removeDeadHelper ends one helper of dead run id, starts again what a helper of a
// version before runs recorded it had stopped, and removes it.
func (r *Run) removeDeadHelper(ctx context.Context, c engine.Owned, id string) error {
	switch {
	case c.Running && uninterruptible[c.Labels[helper.LabelKind]]:
		r.warn(fmt.Sprintf("waiting for helper %s of interrupted run %s to finish", c.Name, id))
		if err := engine.WaitExit(ctx, r.API, c.ID); err != nil {
			return err
		}
	case c.Running:
		engine.Interrupt(ctx, r.API, c.ID)
	}
	for _, stopped := range strings.Split(c.Labels[legacyStopped], ",") {
		if stopped != "" {
			r.startAgain(ctx, stopped, "", "an interrupted run")
		}
	}
	return engine.RemoveContainer(ctx, r.API, c.ID)
}

// settleDeadVolumes finishes the dead runs' swaps, then starts again the containers
// their stop records name (not one whose volume may be half restored) and removes the
// records and the runs' temporary volumes.
func (r *Run) settleDeadVolumes(ctx context.Context) error {
	vs, err := engine.VolumesWithLabels(ctx, r.API, helper.LabelProject+"="+r.Identity.Project, helper.LabelRun)
	if err != nil {
		return fmt.Errorf("looking for what earlier runs left: %w", err)
	}
	// Before any service is started again: a killed swap is finished first.
	unfinished, halfSwapped := r.resumeSwaps(ctx, vs)
	for _, v := range vs {
		if v.Labels[helper.LabelRun] == r.ID || unfinished[v.Name] || v.Labels[helper.LabelKept] != "" {
			continue
		}
		stopped, service := v.Labels[helper.LabelStopped], v.Labels[helper.LabelService]
		switch {
		case stopped != "" && halfSwapped[service]:
			r.warn(fmt.Sprintf("container %s of service %s is not started again: a volume of it may be half restored (see the warning above)", engine.ShortID(stopped), service))
			continue
		case stopped != "":
			if !r.startAgain(ctx, stopped, service, "interrupted run "+v.Labels[helper.LabelRun]) {
				continue // the record stays for the next run
			}
		case v.Labels[helper.LabelTemporary] == "":
			continue // a rollback volume: the user's previous data
		}
		if err := engine.RemoveVolume(ctx, r.API, v.Name); err != nil {
			r.warn(fmt.Sprintf("could not remove volume %s of an interrupted run: %v", v.Name, err))
		}
	}
	return nil
}

// startAgain starts a container a dead run stopped. A stop the dead run began may still
// be under way (the engine finishes it): it is waited for first, or the container would
// be "started" while running and then stop for good. It reports whether the record can
// go: true when the container runs again or no longer exists (a warning). A start is
// kept for Restarted.
func (r *Run) startAgain(ctx context.Context, id, service, whose string) bool {
	running, err := engine.SettleStop(ctx, r.API, id)
	if err == nil && running {
		return true // it was never stopped: the run died before its stop began
	}
	if err == nil {
		err = engine.StartContainer(ctx, r.API, id)
	}
	switch {
	case err == nil:
		r.warn(fmt.Sprintf("started container %s again: %s had stopped it", engine.ShortID(id), whose))
		r.restarted = append(r.restarted, Restart{Container: id, Service: service, At: time.Now()})
		return true
	case errors.Is(err, engine.ErrContainerGone):
		r.warn(fmt.Sprintf("container %s, stopped by %s, no longer exists (recreated or removed): nothing to start", engine.ShortID(id), whose))
		return true
	default:
		r.warn(fmt.Sprintf("%v (stopped by %s; the next run tries again)", err, whose))
		return false
	}
}

// Restart is a container that recovery started again: a dead run had left it stopped.
type Restart struct {
	// Container is its ID; for a stack's service scaled back to its count, the
	// service's.
	Container string
	// Service is its compose service ("" for a record of versions before runs).
	Service string
	At      time.Time
}

// Restarted are the containers this run's recovery started again, in order: for a
// caller that records what recovery did (the scheduler, at its start).
func (r *Run) Restarted() []Restart { return slices.Clone(r.restarted) }
