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
// the restore's marker into each staging volume. The first job of a run does all this
// in its restore's helper instead (preflightFirst).
func preflight(ctx context.Context, env Env, at site, job Job, st *staging) error {
	svc := job.Service
	spec, mounts := preflightParts(svc, st)
	stdout := &engine.Tail{Max: 64 << 10}
	code, stderr, err := at.runAgent(ctx, helper.AgentCall{
		Service: svc.Name, Kind: "restore-preflight", Args: []string{"preflight"}, Spec: spec, Mounts: mounts, Stdout: stdout,
	})
	if err != nil {
		return fmt.Errorf("checking before the restore (helper image %s): %w", env.Run.Runner.Image, err)
	}
	if err := preflightFailure(code, stderr); err != nil {
		return err
	}
	staged, known := stagedKiB(job.Snapshot)
	return checkSpace(stdout.String(), len(svc.Volumes), staged, known)
}

// preflightParts are the preflight's spec and mounts: each live mount read-only at
// /live/<i>, its staging volume at /staging/<i>.
func preflightParts(svc composeext.ServicePlan, st *staging) (agent.PreflightSpec, []mount.Mount) {
	var mounts []mount.Mount
	spec := agent.PreflightSpec{Nonce: st.nonce}
	for i, m := range svc.Volumes {
		n := strconv.Itoa(i)
		mounts = append(mounts,
			mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: "/live/" + n, ReadOnly: true},
			mount.Mount{Type: mount.TypeVolume, Source: st.of[i], Target: "/staging/" + n})
		spec.Mounts = append(spec.Mounts, agent.PreflightMount{File: st.file[i], Live: "/live/" + n, Staging: "/staging/" + n})
	}
	return spec, mounts
}

// preflightFailure is the error for the preflight's exit code (nil for 0) and its
// stderr tail (": …").
func preflightFailure(code int, stderr string) error {
	switch code {
	case 0:
		return nil
	case agent.PreflightTarget:
		return fmt.Errorf("the live mounts do not match the snapshot%s", stderr)
	case agent.PreflightSpace:
		// The agent's own words: "not enough free space: …", after its name.
		return errors.New(strings.TrimPrefix(strings.TrimPrefix(stderr, ": "), "docker-backup agent "+agent.PreflightResticCommand+": "))
	}
	return fmt.Errorf("checking before the restore: exit code %d%s", code, stderr)
}

// preflightFirst is the preflight run in the restore's own helper (agent
// preflight-restic), before restic: one helper fewer. It is the first job's only: a
// preflight that fails after an earlier job has been swapped in would leave the
// services restored in part, so every later job is checked (preflight) before the
// first one restores anything.
func preflightFirst(job Job, st *staging) (restic.RestoreOptions, error) {
	spec, mounts := preflightParts(job.Service, st)
	spec.Staged, spec.StagedKnown = stagedKiB(job.Snapshot)
	data, err := json.Marshal(spec)
	if err != nil {
		return restic.RestoreOptions{}, fmt.Errorf("writing the preflight spec: %w", err)
	}
	o := restic.RestoreOptions{Before: agent.PreflightResticCommand, Files: []restic.File{{Path: agent.SpecFile, Mode: 0o400, Data: data}}}
	for _, m := range mounts {
		o.Mounts = append(o.Mounts, restic.Mount{Type: string(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return o, nil
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

// checkSpace reads the preflight's report, one line per mount, and checks the room
// (agent.CheckSpace); a report without figures checks nothing.
func checkSpace(report string, mounts int, staged uint64, known bool) error {
	var reports []agent.PreflightReport
	dec := json.NewDecoder(strings.NewReader(report))
	for i := 0; i < mounts; i++ {
		var r agent.PreflightReport
		if err := dec.Decode(&r); err != nil {
			break // no figures: nothing to compare
		}
		reports = append(reports, r)
	}
	return agent.CheckSpace(reports, staged, known)
}
