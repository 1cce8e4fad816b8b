package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/restic"
)

// preflight checks, before the service is stopped, what the swap will need (the live
// volumes were checked by checkLiveVolumes before the staging volumes were made): each live mount
// is a folder or a file as in the snapshot, and the engine's volume storage has room
// for the staged snapshot and the rollback copy. Its helper (agent preflight) writes
// the restore's marker into each staging volume.
func preflight(ctx context.Context, env Env, at site, job Job, st *staging) error {
	svc := job.Service
	var mounts []mount.Mount
	spec := agent.PreflightSpec{Nonce: st.nonce}
	for i, m := range svc.Volumes {
		n := strconv.Itoa(i)
		mounts = append(mounts,
			mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: "/live/" + n, ReadOnly: true},
			mount.Mount{Type: mount.TypeVolume, Source: st.of[i], Target: "/staging/" + n})
		spec.Mounts = append(spec.Mounts, agent.PreflightMount{File: st.file[i], Live: "/live/" + n, Staging: "/staging/" + n})
	}
	stdout := &engine.Tail{Max: 64 << 10}
	code, stderr, err := at.runAgent(ctx, helper.AgentCall{
		Service: svc.Name, Kind: "restore-preflight", Args: []string{"preflight"}, Spec: spec, Mounts: mounts, Stdout: stdout,
	})
	switch {
	case err != nil:
		return fmt.Errorf("checking before the restore (helper image %s): %w", env.Run.Runner.Image, err)
	case code == agent.PreflightTarget:
		return fmt.Errorf("the live mounts do not match the snapshot%s", stderr)
	case code != 0:
		return fmt.Errorf("checking before the restore: exit code %d%s", code, stderr)
	}
	staged, known := stagedKiB(job.Snapshot)
	return checkSpace(stdout.String(), len(svc.Volumes), staged, known)
}

// checkLiveVolumes refuses, before anything is stopped, the live volumes a swap could
// not put the snapshot into: a missing one (the engine would create it empty) and one
// that lives in memory (tmpfs, ramfs: the swap's helper would mount a new, empty one of
// its own, fill it and lose it as it exits, and what the service had is gone once it
// stops anyway). A restore --to puts such a snapshot into a plain volume instead.
func checkLiveVolumes(ctx context.Context, env Env, svc composeext.ServicePlan) error {
	for _, m := range svc.Volumes {
		if m.Type != "volume" {
			continue
		}
		v, err := engine.InspectVolume(ctx, env.API, m.Source)
		if errors.Is(err, engine.ErrNoVolume) {
			return fmt.Errorf("volume %s does not exist: create it first (docker compose up --no-start creates the project's volumes), or restore with --to", m.Source)
		}
		if err != nil {
			return err
		}
		if t := v.InMemory(); t != "" {
			return fmt.Errorf("volume %s is a %s volume (driver_opts type %s): its content does not outlive the service's stop, so it cannot be restored in place; restore it with --to NAME into a volume of its own", m.Source, t, t)
		}
	}
	return nil
}

// stagedKiB estimates the room the snapshot takes once restored, in KiB: the bytes its
// backup read and a block per folder, from the summary restic (0.17 and later) keeps in
// the snapshot. known is false for a snapshot without one. The summary covers all of
// the snapshot's paths, so it never underestimates the service's mounts.
func stagedKiB(s restic.Snapshot) (kib uint64, known bool) {
	if s.Summary == nil {
		return 0, false
	}
	dirs := s.Summary.DirsNew + s.Summary.DirsChanged + s.Summary.DirsUnmodified
	return s.Summary.TotalBytesProcessed/1024 + 4*dirs, true
}

// checkSpace compares the room the restore takes on the engine's volume storage with
// what is free there: the staged snapshot, the rollback copy of the live content and,
// where the live mounts are on the same storage, what the new content takes beyond the
// old. report holds the preflight's figures for each of the mounts. Sizes are
// estimates: staged (stagedKiB), or when unknown, the live content's size (a snapshot
// of the service is usually about the size of what it holds now), and du's KiB.
func checkSpace(report string, mounts int, staged uint64, known bool) error {
	var live, liveSame, free uint64
	sawFree, same := false, false
	dec := json.NewDecoder(strings.NewReader(report))
	for i := 0; i < mounts; i++ {
		var r agent.PreflightReport
		if err := dec.Decode(&r); err != nil {
			break // no figures: nothing to compare
		}
		live += r.LiveKiB
		if r.LiveDevice == r.StagingDevice {
			same = true
			liveSame += r.LiveKiB
		}
		free, sawFree = r.FreeKiB, r.FreeKiB > 0 || sawFree
	}
	if !known {
		staged = live
	}
	need := staged + live
	if same && staged > liveSame {
		need += staged - liveSame
	}
	if sawFree && need > free {
		return fmt.Errorf("not enough free space: the restore needs about %s on the engine's volume storage (the staged snapshot and the rollback copy of the live content), %s are free", kib(need), kib(free))
	}
	return nil
}

// kib formats a size in KiB for a message.
func kib(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d KiB", n)
}
