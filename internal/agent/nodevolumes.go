package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// NodeVolumesCommand removes volumes of the engine whose socket the helper has: on a
// swarm stack, the staging, records and old rollback volumes a restore made on a
// node, which only that node's own engine lists and removes (a manager does not).
const NodeVolumesCommand = "node-volumes"

// NodeVolumesSpec says which volumes node-volumes removes: those named in Remove, and
// those that carry any label of Labelled (key=value) but the ones named in Keep. A
// volume that does not carry every label of Require is never removed: only volumes
// docker-backup made are.
type NodeVolumesSpec struct {
	Remove   []string          `json:"remove,omitempty"`
	Labelled []string          `json:"labelled,omitempty"`
	Keep     []string          `json:"keep,omitempty"`
	Require  map[string]string `json:"require"`
	// Node is the swarm node whose engine the socket must reach: another's is refused.
	Node string `json:"node"`
}

// nodeVolumes runs node-volumes: it removes what the spec names, tries every volume,
// and fails with the first error.
func nodeVolumes(ctx context.Context, args []string, env Env) error {
	var spec NodeVolumesSpec
	if err := readSpec(NodeVolumesCommand, args, &spec); err != nil {
		return err
	}
	if len(spec.Require) == 0 {
		return fmt.Errorf("%w: node-volumes needs the labels a volume must carry", errUsage)
	}
	api, err := env.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the engine: %w", err)
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return err
	}
	if info.Swarm.NodeID != spec.Node {
		return fmt.Errorf("the engine socket reaches node %q, not node %s: nothing removed", info.Swarm.NodeID, spec.Node)
	}
	var require []string
	for _, k := range slices.Sorted(maps.Keys(spec.Require)) {
		require = append(require, k+"="+spec.Require[k])
	}
	ours, err := engine.VolumesWithLabels(ctx, api, require...)
	if err != nil {
		return err
	}
	remove := map[string]bool{}
	for _, n := range spec.Remove {
		remove[n] = true
	}
	for _, l := range spec.Labelled {
		labelled, err := engine.VolumesWithLabels(ctx, api, append(slices.Clone(require), l)...)
		if err != nil {
			return err
		}
		for _, v := range labelled {
			if !slices.Contains(spec.Keep, v.Name) {
				remove[v.Name] = true
			}
		}
	}
	var errs []error
	for _, v := range ours {
		if remove[v.Name] {
			errs = append(errs, removeWhenFree(ctx, api, v.Name))
		}
	}
	return errors.Join(errs...)
}

// freeTimeout bounds the wait for a volume still in use: the containers of the jobs
// that mounted it are removed by their nodes a moment after their services are.
const freeTimeout = time.Minute

// removeWhenFree removes the volume, trying again while a container still uses it.
func removeWhenFree(ctx context.Context, api engine.API, name string) error {
	deadline := time.Now().Add(freeTimeout)
	for {
		err := engine.RemoveVolume(ctx, api, name)
		if err == nil || !cerrdefs.IsConflict(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}
