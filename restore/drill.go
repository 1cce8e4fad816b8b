package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/dump"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
	"github.com/docker-backup/docker-backup/run"
)

// The restore drill (package verify) restores into throwaway copies of a service with
// the steps of a real restore: what follows exports them.

// LoadDump streams the job's dump file into cmd run in container (a throwaway copy of
// the service), as a restore of the dump does in the service's own container: on the
// engine's host, nothing written on the way, the command started only once the first
// bytes arrive. It returns the database names the dump named (dump.NameScanner). A
// failure of the command or the stream is a *dump.Failure with the command's stderr
// tail.
func LoadDump(ctx context.Context, env Env, job Job, container string, cmd []string) ([]string, error) {
	spec := dump.Spec{Container: container, User: job.Service.Dump.User, Cmd: cmd, ReportNames: true}
	// The report is the helper's last line of output.
	out := &engine.Tail{Max: 256 << 10}
	err := restic.Dump(ctx, env.Runner, restic.DumpOptions{
		Snapshot: job.Snapshot.ID, Path: job.DumpPath, Service: job.Service.Name, Kind: run.KindDumpRestore,
		Stdout: out,
		Files:  []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}},
	})
	var failed *dump.Failure
	switch {
	case errors.As(err, &failed):
		return nil, failed
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, err
	}
	names, err := dump.ParseNames([]byte(out.String()))
	if err != nil {
		return nil, fmt.Errorf("loading the dump of snapshot %s: %w", job.Snapshot.ShortID, err)
	}
	return names.Databases, nil
}

// RestoreInto restores a volumes job into volumes, one per mount of the service in its
// order (new and empty, made by the caller), with restic's --verify, and compares the
// files, folders and bytes restored with what the snapshot holds. It returns those
// counts. A bind-mounted file is refused: only folders are restored this way.
func RestoreInto(ctx context.Context, env Env, job Job, volumes []string) (restic.TreeStats, error) {
	svc := job.Service
	if len(volumes) != len(svc.Volumes) {
		return restic.TreeStats{}, fmt.Errorf("restoring %s: %d volumes for %d mounts", svc.Name, len(volumes), len(svc.Volumes))
	}
	stats, err := expected(ctx, env, job)
	if err != nil {
		return restic.TreeStats{}, err
	}
	if err := refuseFiles(svc, stats, "only folders are restored into throwaway volumes"); err != nil {
		return restic.TreeStats{}, err
	}
	want := sum(stats)
	if err := restoreIntoVolumes(ctx, env, job, volumes, want); err != nil {
		return restic.TreeStats{}, err
	}
	return want, nil
}
