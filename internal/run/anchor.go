package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/failure"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// startingGrace is how long an anchor that was created but not started yet counts as
// alive: its run is between creating and starting it.
const startingGrace = time.Minute

// ErrBusy is another live run of the project.
var ErrBusy = errors.New("another docker-backup run of the project is in progress")

// acquire takes the project's anchor. A live holder is waited for (polling) as long as
// o.Wait allows; a dead one (its process is gone, so its anchor exited) is removed and
// its leftovers are recovered by the caller, which then holds the project alone.
//
// The dead anchors it removes are recorded in deadAnchors: their runs' restic commands
// ran in them (see helper.Runner.UseHost), so they may have left locks behind.
//
// With o.Host, it returns the mounts of the anchor that is the run's host too (nil when
// it is not: a folder to mount was missing).
func acquire(ctx context.Context, o Options, runID string, warn func(string), deadAnchors *[]string) (*engine.Held, []mount.Mount, error) {
	name := anchorName(o.Identity.Project)
	plain := engine.HeldSpec{
		Name:       name,
		Image:      o.AnchorImage,
		Entrypoint: helper.HoldEntrypoint,
		Labels: map[string]string{
			helper.LabelProject: o.Identity.Project, helper.LabelRun: runID, helper.LabelKind: helper.KindAnchor,
			helper.LabelCommand: o.Command, helper.LabelClient: o.Client,
		},
	}
	spec := plain
	if o.Host {
		spec = o.Runner.HostSpec(plain, o.Mounts)
	}
	start := time.Now()
	announced := false
	delay := 200 * time.Millisecond
	for {
		held, err := engine.StartHeld(ctx, o.API, spec)
		if o.Host && engine.IsAnyMissingBindSource(err) {
			// A folder to mount is missing on the engine's host (the repository's, or a
			// service's): the run goes on with helpers, which say which.
			spec, o.Host = plain, false
			continue
		}
		if !errors.Is(err, engine.ErrNameInUse) {
			if err != nil || !o.Host {
				return held, nil, err
			}
			return held, spec.Mounts, nil
		}
		st, found, err := engine.InspectState(ctx, o.API, name)
		if err != nil {
			return nil, nil, err
		}
		if found && !alive(st) {
			// Removed by ID: never a newer anchor that took the name meanwhile.
			if err := engine.RemoveContainer(ctx, o.API, st.ID); err != nil {
				return nil, nil, err
			}
			if id := st.Labels[helper.LabelRun]; id != "" {
				*deadAnchors = append(*deadAnchors, id)
			}
			continue
		}
		if found {
			holder := describeHolder(st)
			if o.Wait >= 0 && time.Since(start) >= o.Wait {
				return nil, nil, failure.Newf(ErrBusy, "%v: %s; wait for it with --wait", ErrBusy, holder)
			}
			if !announced {
				warn("waiting for another run of project " + o.Identity.Project + ": " + holder)
				announced = true
			}
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// alive reports whether an anchor's run still lives: its container runs (its process
// holds its input open), or it was created moments ago and is about to start.
func alive(st engine.ContainerState) bool {
	switch st.Status {
	case "running", "restarting":
		return true
	case "created":
		return time.Since(st.Created) < startingGrace
	}
	return false
}

// describeHolder says which run holds the project, for a message.
func describeHolder(st engine.ContainerState) string {
	l := st.Labels
	out := fmt.Sprintf("%s (run %s", orWord(l[helper.LabelCommand], "a run"), l[helper.LabelRun])
	if l[helper.LabelClient] != "" {
		out += " by " + l[helper.LabelClient]
	}
	if !st.Created.IsZero() {
		out += fmt.Sprintf(", started %s ago", time.Since(st.Created).Round(time.Second))
	}
	return out + ")"
}

func orWord(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
