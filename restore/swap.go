package restore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/agent"
	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/run"
)

// Labels restore puts on the volumes it creates, besides the run's.
const (
	// LabelStaging marks a staging volume: <project>/<service>/<key>.
	LabelStaging = "io.docker-backup.staging"
	// LabelRollback marks a rollback volume with the live volume (or host folder) whose
	// previous content it keeps.
	LabelRollback = "io.docker-backup.rollback"
)

// swapExitMax is the highest exit code `agent swap` gives itself; a higher one is a
// helper that was killed.
const swapExitMax = agent.SwapNotStaged

// volumesRoot is where a swap helper mounts the engine's folder of volumes.
const volumesRoot = "/volumes"

// swapLayout mounts what the swap helper replaces. Where the live, staging and rollback
// volumes are all plain folders of the engine's one folder of volumes, that folder is
// mounted once, so the agent moves entries between them by rename: no data is copied.
// Otherwise (a bind-mounted host folder or file, another volume driver) each is mounted
// on its own and the agent copies what it cannot rename.
func swapLayout(ctx context.Context, env Env, svc composeext.ServicePlan, st *staging, rollback []string) ([]mount.Mount, agent.SwapSpec, error) {
	spec := agent.SwapSpec{Nonce: st.nonce}
	places := map[string]engine.VolumePlace{}
	place := func(name string) (engine.VolumePlace, error) {
		if p, ok := places[name]; ok {
			return p, nil
		}
		p, err := engine.VolumePlaceOf(ctx, env.API, name)
		places[name] = p
		return p, err
	}
	var mounts []mount.Mount
	root := ""
	rootMounted := false
	// folder returns where the helper sees volume name: under the one root, or at its
	// own mount point own.
	folder := func(name, own string) (string, error) {
		p, err := place(name)
		if err != nil {
			return "", err
		}
		if p.Root != "" && (root == "" || root == p.Root) {
			root = p.Root
			if !rootMounted {
				mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: root, Target: volumesRoot})
				rootMounted = true
			}
			return volumesRoot + "/" + name + "/_data", nil
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: own})
		return own, nil
	}
	for i, m := range svc.Volumes {
		n := strconv.Itoa(i)
		sm := agent.SwapMount{File: st.file[i], Keep: m.Keep}
		var err error
		if m.Type == "volume" {
			sm.Live, err = folder(m.Source, "/live/"+n)
		} else {
			sm.Live = "/live/" + n
			mounts = append(mounts, mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: sm.Live})
		}
		if err == nil {
			sm.Staging, err = folder(st.of[i], "/staging/"+n)
		}
		if err == nil {
			sm.Rollback, err = folder(rollback[i], "/rollback/"+n)
		}
		if err != nil {
			return nil, spec, err
		}
		if sm.File {
			sm.Base = path.Base(m.Path)
		}
		spec.Mounts = append(spec.Mounts, sm)
	}
	return mounts, spec, nil
}

// swap runs the swap helper (agent swap) with the live, staging and rollback volumes
// mounted. Its error says whether the live content was changed.
func swap(ctx context.Context, env Env, svc composeext.ServicePlan, st *staging, rollback []string) error {
	var live []string
	for _, m := range svc.Volumes {
		live = append(live, m.Source)
	}
	unchanged := func() { _ = engine.RemoveVolumes(context.WithoutCancel(ctx), env.API, rollback) }
	mounts, spec, err := swapLayout(ctx, env, svc, st, rollback)
	for _, m := range mounts {
		spec.Helper = append(spec.Helper, agent.HelperMount{Type: string(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	if errors.Is(err, engine.ErrNoVolume) {
		unchanged()
		return fmt.Errorf("%w: a staging volume is not the one restored and verified (removed or re-created since): nothing was replaced, the live content is unchanged", err)
	}
	if err != nil {
		unchanged()
		return fmt.Errorf("replacing the live content: %w: nothing was replaced, the live content is unchanged", err)
	}
	stdout := &engine.Tail{Max: 1024}
	code, stderr, err := env.Run.RunAgent(ctx, run.AgentCall{
		Service: svc.Name, Kind: "restore-swap", Args: []string{"swap"}, Spec: spec, Mounts: mounts, Stdout: stdout,
	})
	if killed := err == nil && code > swapExitMax || err != nil && !errors.Is(err, engine.ErrNotStarted); killed {
		// The swap helper died mid-swap (killed, out of memory): its journal says how far
		// it got, and a second helper finishes the swap from there.
		env.Reporter.Step(svc.Name, fmt.Sprintf("the swap helper ended unexpectedly (exit code %d): finishing the swap from its journal", code))
		rcode, rstderr, rerr := env.Run.RunAgent(ctx, run.AgentCall{
			Service: svc.Name, Kind: "restore-swap", Args: []string{"swap", "--resume"}, Spec: spec, Mounts: mounts,
		})
		if rerr == nil && (rcode == 0 || rcode == agent.SwapPutBack) {
			code, stderr, err = rcode, rstderr, nil
		}
	}
	switch {
	case errors.Is(err, engine.ErrNotStarted):
		unchanged()
		return fmt.Errorf("replacing the live content: %w: nothing was replaced, the live content is unchanged", err)
	case err != nil:
		return fmt.Errorf("replacing the live content: %w: the live content may have changed, the previous content is in %s", err, strings.Join(rollback, ", "))
	case code == 0:
		return nil
	case code == agent.SwapNotStaged:
		unchanged()
		name := strings.Join(st.volumes, ", ")
		if i, ok := pick(stdout.String(), st.of); ok {
			name = i
		}
		return fmt.Errorf("staging volume %s is not the one restored and verified (removed or re-created since): nothing was replaced, the live content is unchanged", name)
	case code == agent.SwapUnchanged:
		unchanged()
		return fmt.Errorf("moving the live content to the rollback volume failed: nothing was replaced, the live content is unchanged%s", stderr)
	case code == agent.SwapPutBack:
		unchanged()
		return fmt.Errorf("replacing the live content failed; the previous content was put back, the live content is as before the restore%s", stderr)
	case code == agent.SwapPutBackFailed:
		var damaged, keep []string
		for _, f := range strings.Fields(stdout.String()) {
			if i, err := strconv.Atoi(f); err == nil && i >= 0 && i < len(live) {
				damaged, keep = append(damaged, live[i]), append(keep, rollback[i])
			}
		}
		return fmt.Errorf("replacing the live content failed and so did putting the previous content back: %s may be part old, part new; the previous content is in %s%s",
			strings.Join(damaged, ", "), strings.Join(keep, ", "), stderr)
	default:
		return fmt.Errorf("the swap helper ended with exit code %d: the live content may have changed, the previous content is in %s%s", code, strings.Join(rollback, ", "), stderr)
	}
}

// pick returns names[i] for the number the script printed.
func pick(out string, names []string) (string, bool) {
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", false
	}
	i, err := strconv.Atoi(f[0])
	if err != nil || i < 0 || i >= len(names) {
		return "", false
	}
	return names[i], true
}

// checkEmpty fails unless the volume holds nothing.
func checkEmpty(ctx context.Context, env Env, service, name string) error {
	code, stderr, err := env.Run.RunAgent(ctx, run.AgentCall{
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
	vs, err := engine.VolumesWithLabels(ctx, env.API, LabelRollback+"="+live, run.LabelProject+"="+env.Plan.Project)
	if err != nil {
		return
	}
	for _, v := range vs {
		if v.Name != keep {
			_ = engine.RemoveVolume(ctx, env.API, v.Name)
		}
	}
}
