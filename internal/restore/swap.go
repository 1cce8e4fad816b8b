package restore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// Labels restore puts on the volumes it creates, besides the run's.
const (
	// LabelStaging marks a staging volume: <project>/<service>/<key>.
	LabelStaging = helper.LabelStaging
	// LabelRollback marks a rollback volume with the live volume (or host folder) whose
	// previous content it keeps.
	LabelRollback = helper.LabelRollback
)

// swapExitMax is the highest exit code `agent swap` gives itself; a higher one is a
// helper that was killed.
const swapExitMax = agent.SwapNotBegun

// site is where a restore's helpers run and its volumes are: the engine's own
// (engineSite), or a swarm node's (nodeSite, stack.go).
type site interface {
	runAgent(ctx context.Context, call helper.AgentCall) (int, string, error)
	// createRecords creates the swap's records volume, labelled with what it swaps.
	createRecords(ctx context.Context, s helper.Swap) error
	runSwap(ctx context.Context, s helper.Swap) (helper.SwapOutcome, error)
	// removeVolumes removes the volumes, whatever ctx says; a cleanup: no error.
	removeVolumes(ctx context.Context, names []string)
}

// engineSite is the engine of the run: its helpers, its volumes.
type engineSite struct{ env Env }

func (e engineSite) runAgent(ctx context.Context, call helper.AgentCall) (int, string, error) {
	return e.env.Run.Runner.RunAgent(ctx, call)
}

func (e engineSite) createRecords(ctx context.Context, s helper.Swap) error {
	return e.env.Run.CreateSwapRecords(ctx, s)
}

func (e engineSite) runSwap(ctx context.Context, s helper.Swap) (helper.SwapOutcome, error) {
	return e.env.Run.Runner.RunSwap(ctx, s, false)
}

func (e engineSite) removeVolumes(ctx context.Context, names []string) {
	_ = engine.RemoveVolumes(context.WithoutCancel(ctx), e.env.API, names)
}

// swapped is how a service's swap ended.
type swapped struct {
	// keep says the staging and records volumes must stay for recovery, and the
	// service stay stopped: the swap could not be brought to all old or all new.
	keep bool
	// records is the swap's records volume, removed with the staging volumes otherwise.
	records string
}

// swapTargets are the service's mounts as the swap replaces them.
func swapTargets(svc composeext.ServicePlan, st *staging, rollback []string) []helper.SwapTarget {
	var ts []helper.SwapTarget
	for i, m := range svc.Volumes {
		t := helper.SwapTarget{Type: m.Type, Live: m.Source, Staging: st.of[i], Rollback: rollback[i], File: st.file[i], Keep: m.Keep}
		if t.File {
			t.Base = path.Base(m.Path)
		}
		ts = append(ts, t)
	}
	return ts
}

// swap replaces every live mount of the service by its staged content, or none: one
// helper (agent swap) with the swap's records volume, where its journals are kept, and
// the live, staging and rollback volumes mounted. A helper that dies is followed by a
// second one that finishes from the journals. Its error says which volumes hold the
// restored content, which their previous content, and where the rollback is.
func swap(ctx context.Context, env Env, at site, svc composeext.ServicePlan, st *staging, rollback []string) (swapped, error) {
	s := helper.Swap{Service: svc.Name, Nonce: st.nonce, Records: env.Plan.Project + "_" + svc.Name + "_swap-" + st.stamp, Targets: swapTargets(svc, st, rollback)}
	removeRollbacks := func() { at.removeVolumes(ctx, rollback) }
	if err := at.createRecords(ctx, s); err != nil {
		removeRollbacks()
		return swapped{}, fmt.Errorf("replacing the live content: %w: nothing was replaced, the live content is unchanged", err)
	}
	res := swapped{records: s.Records}
	out, err := at.runSwap(ctx, s)
	if killed := err == nil && out.Code > swapExitMax || err != nil && !errors.Is(err, engine.ErrNotStarted) && !errors.Is(err, engine.ErrNoVolume); killed {
		// The swap helper died mid-swap (killed, out of memory): the journals say how
		// far it got, and a second helper takes the swap on from there.
		env.Reporter.Step(svc.Name, fmt.Sprintf("the swap helper ended unexpectedly (exit code %d): finishing the swap from its journals", out.Code))
		out, err = at.runSwap(ctx, s)
	}
	switch {
	case errors.Is(err, engine.ErrNoVolume):
		removeRollbacks()
		return res, fmt.Errorf("%w: a staging volume is not the one restored and verified (removed or re-created since): nothing was replaced, every volume holds its previous content (%s)", err, strings.Join(s.Lives(), ", "))
	case errors.Is(err, engine.ErrNotStarted):
		removeRollbacks()
		return res, fmt.Errorf("replacing the live content: %w: nothing was replaced, every volume holds its previous content (%s)", err, strings.Join(s.Lives(), ", "))
	case err == nil && out.AllNew():
		return res, nil
	case err == nil && out.Code == agent.SwapNotStaged:
		removeRollbacks()
		return res, fmt.Errorf("a staging volume (%s) is not the one restored and verified (removed or re-created since): nothing was replaced, every volume holds its previous content (%s)",
			strings.Join(st.volumes, ", "), strings.Join(s.Lives(), ", "))
	case err == nil && out.AllOld():
		removeRollbacks()
		what := "nothing was replaced"
		if out.Code == agent.SwapPutBack {
			what = "what was replaced was put back"
		}
		return res, fmt.Errorf("replacing the live content failed; %s: every volume holds its previous content (%s)%s", what, strings.Join(s.Lives(), ", "), out.Stderr)
	}
	res.keep = true
	why := fmt.Sprintf("exit code %d%s", out.Code, out.Stderr)
	if err != nil {
		why = err.Error()
	}
	return res, fmt.Errorf("replacing the live content failed and could not be put back everywhere (%s): %s; the service stays stopped and its staging volumes are kept: the next docker backup command of the project finishes the swap",
		why, s.Describe(out.States))
}

// checkEmpty fails unless the volume holds nothing.
func checkEmpty(ctx context.Context, env Env, service, name string) error {
	code, stderr, err := env.Run.Runner.RunAgent(ctx, helper.AgentCall{
		Service: service, Kind: "restore-check", Args: []string{"empty", "/target"},
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/target", ReadOnly: true}},
	})
	switch {
	case err != nil:
		return fmt.Errorf("looking into volume %s: %w", name, err)
	case code == 1:
		return fmt.Errorf("volume %s is not empty: --to restores into a new or empty volume", name)
	case code != 0:
		return fmt.Errorf("looking into volume %s: exit code %d%s", name, code, stderr)
	}
	return nil
}

// removeOldRollbacks removes the rollback volumes of a live volume but keep.
func removeOldRollbacks(ctx context.Context, env Env, live, keep string) {
	vs, err := engine.VolumesWithLabels(ctx, env.API, LabelRollback+"="+live, helper.LabelProject+"="+env.Plan.Project)
	if err != nil {
		return
	}
	for _, v := range vs {
		if v.Name != keep {
			_ = engine.RemoveVolume(ctx, env.API, v.Name)
		}
	}
}
