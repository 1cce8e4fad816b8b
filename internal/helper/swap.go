package helper

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// KindSwap is the helper kind of a restore's swap, which recovery lets finish.
const KindSwap = "restore-swap"

// SwapTarget is one mount of a service's swap, named as the engine names it.
type SwapTarget struct {
	// Type is "volume" or "bind"; Live the volume's name or the bind's host path.
	Type string `json:"type"`
	Live string `json:"live"`
	// Staging and Rollback are volumes of the run (LabelStaging, LabelRollback).
	Staging  string `json:"staging"`
	Rollback string `json:"rollback"`
	// File is a bind-mounted file, Base its name in the staging and rollback volumes.
	File bool   `json:"file,omitempty"`
	Base string `json:"base,omitempty"`
	// Keep are paths inside the live mount that the swap leaves in place.
	Keep []string `json:"keep,omitempty"`
}

// Swap is a service's swap: its records volume, nonce and targets.
type Swap struct {
	Service, Records, Nonce string
	Targets                 []SwapTarget
}

// SwapOutcome is what a swap helper said: its exit code, each target's state
// (agent.MountOld, MountNew, MountMixed; empty when it said nothing) and its stderr.
type SwapOutcome struct {
	Code   int
	States []string
	Stderr string
}

// AllNew tells whether every target holds its new content.
func (o SwapOutcome) AllNew() bool { return o.Code == 0 && o.all(agent.MountNew) }

// AllOld tells whether every target holds its previous content, whole.
func (o SwapOutcome) AllOld() bool {
	switch o.Code {
	case agent.SwapUnchanged, agent.SwapPutBack, agent.SwapNotStaged, agent.SwapNotBegun:
		return o.all(agent.MountOld)
	}
	return false
}

func (o SwapOutcome) all(state string) bool {
	if len(o.States) == 0 {
		return false
	}
	for _, s := range o.States {
		if s != state {
			return false
		}
	}
	return true
}

// RunSwap runs `agent swap` (or with resume `agent swap --resume`, which never begins a
// swap) in a helper that mounts the swap's volumes. A helper that did not report (it
// was killed) gives an outcome without states.
func (c *Runner) RunSwap(ctx context.Context, s Swap, resume bool) (SwapOutcome, error) {
	mounts, spec, err := swapLayout(ctx, c.API, s)
	if err != nil {
		return SwapOutcome{}, err
	}
	return runSwap(ctx, s, resume, mounts, spec, c.RunAgent)
}

// runSwap runs the swap with its layout through run (a helper, or a job on a node).
func runSwap(ctx context.Context, s Swap, resume bool, mounts []mount.Mount, spec agent.SwapSpec, run func(context.Context, AgentCall) (int, string, error)) (SwapOutcome, error) {
	args := []string{"swap"}
	if resume {
		args = append(args, "--resume")
	}
	stdout := &engine.Tail{Max: 64 << 10}
	code, stderr, err := run(ctx, AgentCall{Service: s.Service, Kind: KindSwap, Args: args, Spec: spec, Mounts: mounts, Stdout: stdout})
	out := SwapOutcome{Code: code, Stderr: stderr}
	var rep agent.SwapReport
	if json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &rep) == nil && len(rep.Mounts) == len(s.Targets) {
		out.States = rep.Mounts
	}
	return out, err
}

// swapLayout mounts what the swap helper replaces. Where the live, staging and rollback
// volumes of a target are all plain folders of the engine's one folder of volumes, that
// folder is mounted once, so the agent moves entries between them by rename: rename(2)
// cannot cross mounts, and each volume mounted on its own is a mount of its own, so the
// alternative is copying every byte. Without api (a swarm node's volumes, which the
// manager cannot inspect) or otherwise (a bind-mounted host folder or file,
// another volume driver or driver options) each is mounted on its own, through its
// driver, and the agent copies. The agent refuses any path but these.
func swapLayout(ctx context.Context, api engine.API, s Swap) ([]mount.Mount, agent.SwapSpec, error) {
	spec := agent.SwapSpec{Nonce: s.Nonce, Records: agent.RecordsDir}
	mounts := []mount.Mount{{Type: mount.TypeVolume, Source: s.Records, Target: agent.RecordsDir}}
	places := map[string]engine.VolumePlace{}
	place := func(name string) (engine.VolumePlace, error) {
		if p, ok := places[name]; ok {
			return p, nil
		}
		p, err := engine.VolumePlaceOf(ctx, api, name)
		places[name] = p
		return p, err
	}
	root := ""
	for i, t := range s.Targets {
		n := strconv.Itoa(i)
		sm := agent.SwapMount{File: t.File, Base: t.Base, Keep: t.Keep}
		// Renames need all three in the one folder of volumes.
		rename := api != nil && t.Type == "volume" && !t.File
		var ps [3]engine.VolumePlace
		for k, name := range []string{t.Live, t.Staging, t.Rollback} {
			if api == nil {
				break
			}
			if k == 0 && t.Type != "volume" {
				continue
			}
			p, err := place(name)
			if err != nil {
				return nil, spec, err
			}
			ps[k] = p
			rename = rename && p.Root != "" && (root == "" || p.Root == root)
		}
		own := func(typ mount.Type, source, target string) string {
			mounts = append(mounts, mount.Mount{Type: typ, Source: source, Target: target})
			return target
		}
		if rename {
			if root == "" {
				root = ps[0].Root
				mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: root, Target: agent.VolumesDir})
			}
			sm.Live = agent.VolumesDir + "/" + t.Live + "/_data"
			sm.Staging = agent.VolumesDir + "/" + t.Staging + "/_data"
			sm.Rollback = agent.VolumesDir + "/" + t.Rollback + "/_data"
		} else {
			sm.Live = own(mount.Type(t.Type), t.Live, "/live/"+n)
			sm.Staging = own(mount.TypeVolume, t.Staging, "/staging/"+n)
			sm.Rollback = own(mount.TypeVolume, t.Rollback, "/rollback/"+n)
		}
		spec.Mounts = append(spec.Mounts, sm)
	}
	return mounts, spec, nil
}

// Lives names the live mounts of the swap.
func (s Swap) Lives() []string {
	var out []string
	for _, t := range s.Targets {
		out = append(out, t.Live)
	}
	return out
}

// Rollbacks names the rollback volumes of the swap.
func (s Swap) Rollbacks() []string {
	var out []string
	for _, t := range s.Targets {
		out = append(out, t.Rollback)
	}
	return out
}

// Describe says, per target, what its live mount holds after a swap that did not end
// with all targets new, as states (from SwapOutcome) say.
func (s Swap) Describe(states []string) string {
	var parts []string
	for i, t := range s.Targets {
		st := ""
		if i < len(states) {
			st = states[i]
		}
		switch st {
		case agent.MountOld:
			parts = append(parts, t.Live+" holds its previous content")
		case agent.MountNew:
			parts = append(parts, fmt.Sprintf("%s holds the restored content (its previous content is in %s)", t.Live, t.Rollback))
		case agent.MountMixed:
			parts = append(parts, fmt.Sprintf("%s may be part old, part new (its previous content is in %s)", t.Live, t.Rollback))
		default:
			parts = append(parts, fmt.Sprintf("%s is in an unknown state (its previous content is in %s)", t.Live, t.Rollback))
		}
	}
	return strings.Join(parts, "; ")
}
