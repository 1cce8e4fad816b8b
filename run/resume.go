package run

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/agent"
	"github.com/docker-backup/docker-backup/engine"
)

// kindSwap is the helper kind of a restore's swap, which recovery lets finish.
const kindSwap = "restore-swap"

// resumeSwaps finishes the swaps that dead runs' swap helpers did not (the helper was
// killed, or the engine stopped, mid-swap): a swap's journal and saved spec are in its
// staging volumes, which this looks into before they are removed and before the
// service is started again, so no service starts on a volume half old, half new. It
// returns the staging volumes whose swap could not be finished (they must stay) and
// their services (not to be started again).
func (r *Run) resumeSwaps(ctx context.Context, vs []engine.Volume) (keep, services map[string]bool) {
	keep, services = map[string]bool{}, map[string]bool{}
	done := map[string]bool{}
	for _, v := range vs {
		if v.Labels[LabelRun] == r.ID || v.Labels[LabelTemporary] == "" {
			continue
		}
		spec, found, err := r.pendingSwap(ctx, v)
		switch {
		case err != nil:
			r.warn(fmt.Sprintf("could not look for an unfinished swap in volume %s of interrupted run %s (it is kept): %v", v.Name, v.Labels[LabelRun], err))
			keep[v.Name], services[v.Labels[LabelService]] = true, true
			continue
		case !found || done[spec.Nonce]:
			continue
		}
		done[spec.Nonce] = true
		r.warn(fmt.Sprintf("finishing the swap of service %s that interrupted run %s began", v.Labels[LabelService], v.Labels[LabelRun]))
		if err := r.resumeSwap(ctx, v, spec); err != nil {
			r.warn(fmt.Sprintf("could not finish the swap of interrupted run %s: %v; its staging volume %s is kept", v.Labels[LabelRun], err, v.Name))
			keep[v.Name], services[v.Labels[LabelService]] = true, true
		}
	}
	return keep, services
}

// pendingSwap asks a helper whether a staging volume holds an unfinished swap.
func (r *Run) pendingSwap(ctx context.Context, v engine.Volume) (agent.SwapSpec, bool, error) {
	var spec agent.SwapSpec
	out := &engine.Tail{Max: 1 << 20}
	code, stderr, err := r.RunAgent(ctx, AgentCall{Service: v.Labels[LabelService], Kind: "swap-check", Args: []string{"pending", "/s"},
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: v.Name, Target: "/s", ReadOnly: true}}, Stdout: out})
	switch {
	case err != nil:
		return spec, false, err
	case code != 0:
		return spec, false, fmt.Errorf("exit code %d%s", code, stderr)
	case strings.TrimSpace(out.String()) == "":
		return spec, false, nil
	}
	if err := json.Unmarshal([]byte(out.String()), &spec); err != nil {
		return spec, false, fmt.Errorf("reading the saved swap: %w", err)
	}
	return spec, true, nil
}

// resumeSwap runs `agent swap --resume` with the mounts the swap had.
func (r *Run) resumeSwap(ctx context.Context, v engine.Volume, spec agent.SwapSpec) error {
	var mounts []mount.Mount
	for _, m := range spec.Helper {
		mounts = append(mounts, mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	code, stderr, err := r.RunAgent(context.WithoutCancel(ctx), AgentCall{Service: v.Labels[LabelService], Kind: kindSwap,
		Args: []string{"swap", "--resume"}, Spec: spec, Mounts: mounts})
	switch {
	case err != nil:
		return err
	case code == agent.SwapPutBack:
		r.warn("the interrupted swap was put back: the live content is as before that restore" + stderr)
		return nil
	case code != 0:
		return fmt.Errorf("exit code %d%s", code, stderr)
	}
	return nil
}
