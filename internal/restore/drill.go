package restore

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/restic"
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
		Snapshot: job.Snapshot.ID, Path: job.DumpPath, Service: job.Service.Name, Kind: helper.KindDumpRestore,
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

// Drilled is a volumes job restored into new volumes by RestoreInto.
type Drilled struct {
	// Summary is restic's summary of the restore, verified complete.
	Summary restic.RestoreSummary
	// volume is each mount's volume, in the service's order; the bind-mounted files
	// share one. file is true for a bind-mounted file.
	volume []string
	file   []bool
}

// RestoreInto restores a volumes job into new volumes that newVolume creates (empty,
// with a name of the caller's, which the caller removes): one per folder, and one that
// the service's bind-mounted files share, as a restore's staging does (restic writes a
// file, not a folder, at a file's snapshot path, so their volume is mounted at the
// parent folder). Restic's --verify runs, and its summary must say it restored every
// file, folder and byte it counted in the snapshot. It returns that summary, and where each mount
// went (Drilled.Mounts).
func RestoreInto(ctx context.Context, env Env, job Job, newVolume func(context.Context) (string, error)) (Drilled, error) {
	svc := job.Service
	fileMount, err := fileMounts(ctx, env, job)
	if err != nil {
		return Drilled{}, err
	}
	var d Drilled
	files := ""
	for i := range svc.Volumes {
		isFile := fileMount[i]
		name := files
		if !isFile || files == "" {
			if name, err = newVolume(ctx); err != nil {
				return Drilled{}, err
			}
		}
		if isFile {
			files = name
		}
		d.volume = append(d.volume, name)
		d.file = append(d.file, isFile)
	}
	var includes []string
	for _, m := range svc.Volumes {
		includes = append(includes, m.Path)
	}
	// Mounted as a restore mounts its staging volumes.
	mounts := (&staging{of: d.volume, file: d.file}).resticMounts(svc)
	if d.Summary, err = restoreAndVerify(ctx, env, job, includes, mounts, restic.RestoreOptions{}); err != nil {
		return Drilled{}, err
	}
	return d, nil
}

// Mounts mounts what RestoreInto restored where the service mounts it, for a container
// that checks it: a folder's volume at the folder, and a bind-mounted file at its path,
// bound from its volume's folder on the engine's host (a volume cannot be mounted as a
// file, and engines before API 1.45 mount no part of one). The file there is the snapshot's, a
// plain file that restic wrote into a volume no container had mounted before.
func (d Drilled) Mounts(ctx context.Context, api engine.API, svc composeext.ServicePlan) ([]mount.Mount, error) {
	var mounts []mount.Mount
	for i, m := range svc.Volumes {
		if !d.file[i] {
			mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: d.volume[i], Target: m.Target})
			continue
		}
		place, err := engine.VolumePlaceOf(ctx, api, d.volume[i])
		if err != nil {
			return nil, err
		}
		if place.Data == "" {
			return nil, fmt.Errorf("%s is a bind-mounted file, mounted from the folder of its throwaway volume %s on the engine's host, and the engine keeps that volume elsewhere (not a plain local volume)", m.Target, d.volume[i])
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: path.Join(place.Data, path.Base(m.Path)), Target: m.Target})
	}
	return mounts, nil
}
