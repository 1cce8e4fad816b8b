package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// Labels of a restore's swap records volume: the one place its journals are kept. Only
// swap helpers mount it; no service does, so nothing a service writes can steer a swap.
const (
	// LabelSwap is the swap's nonce (the restore's marker).
	LabelSwap = "io.docker-backup.swap"
	// LabelSwapTargets is what the swap replaces, as JSON []SwapTarget: recovery finds
	// a killed swap's mounts here, in engine state written by the run, and checks each
	// named volume's own labels before it mounts anything.
	LabelSwapTargets = "io.docker-backup.swap.targets"
	// LabelStaging marks a staging volume: <project>/<service>/<key>.
	LabelStaging = "io.docker-backup.staging"
	// LabelRollback marks a rollback volume with the live volume (or host folder) whose
	// previous content it keeps.
	LabelRollback = "io.docker-backup.rollback"
)

// kindSwap is the helper kind of a restore's swap, which recovery lets finish.
const kindSwap = "restore-swap"

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

// CreateSwapRecords creates the records volume of a swap, labelled with what it swaps.
func (r *Run) CreateSwapRecords(ctx context.Context, s Swap) error {
	targets, err := json.Marshal(s.Targets)
	if err != nil {
		return fmt.Errorf("recording the swap: %w", err)
	}
	labels := r.TemporaryLabels(s.Service)
	labels[LabelSwap] = s.Nonce
	labels[LabelSwapTargets] = string(targets)
	return engine.CreateNewVolume(ctx, r.API, s.Records, labels)
}

// RunSwap runs `agent swap` (or with resume `agent swap --resume`, which never begins a
// swap) in a helper that mounts the swap's volumes. A helper that did not report (it
// was killed) gives an outcome without states.
func (r *Run) RunSwap(ctx context.Context, s Swap, resume bool) (SwapOutcome, error) {
	mounts, spec, err := swapLayout(ctx, r.API, s)
	if err != nil {
		return SwapOutcome{}, err
	}
	args := []string{"swap"}
	if resume {
		args = append(args, "--resume")
	}
	stdout := &engine.Tail{Max: 64 << 10}
	code, stderr, err := r.RunAgent(ctx, AgentCall{Service: s.Service, Kind: kindSwap, Args: args, Spec: spec, Mounts: mounts, Stdout: stdout})
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
// alternative is copying every byte. Otherwise (a bind-mounted host folder or file,
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
		rename := t.Type == "volume" && !t.File
		var ps [3]engine.VolumePlace
		for k, name := range []string{t.Live, t.Staging, t.Rollback} {
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

// checkSwap refuses a dead run's swap whose records do not match the engine's own
// state: each staging and rollback volume must be the run's (project, run, and the
// staging or rollback label naming the live mount), each live volume must exist.
func checkSwap(records engine.Volume, byName map[string]engine.Volume, live func(string) bool) (Swap, error) {
	s := Swap{Service: records.Labels[LabelService], Records: records.Name, Nonce: records.Labels[LabelSwap]}
	if err := json.Unmarshal([]byte(records.Labels[LabelSwapTargets]), &s.Targets); err != nil || len(s.Targets) == 0 {
		return s, errors.New("its records volume does not say what it swapped")
	}
	run, project := records.Labels[LabelRun], records.Labels[LabelProject]
	ours := func(name string) (engine.Volume, bool) {
		v, ok := byName[name]
		return v, ok && v.Labels[LabelRun] == run && v.Labels[LabelProject] == project && v.Labels[LabelService] == s.Service
	}
	for _, t := range s.Targets {
		if v, ok := ours(t.Staging); !ok || v.Labels[LabelStaging] == "" {
			return s, fmt.Errorf("staging volume %s is not that run's", t.Staging)
		}
		if v, ok := ours(t.Rollback); !ok || v.Labels[LabelRollback] != t.Live {
			return s, fmt.Errorf("rollback volume %s is not that run's for %s", t.Rollback, t.Live)
		}
		switch {
		case t.Type == "volume" && !live(t.Live):
			return s, fmt.Errorf("live volume %s does not exist", t.Live)
		case t.Type != "volume" && (t.Type != "bind" || !strings.HasPrefix(t.Live, "/")):
			return s, fmt.Errorf("live mount %q is neither a volume nor a bind mount's host path", t.Live)
		}
	}
	return s, nil
}
