package restore

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// prepared is a volume restore made ready before any service is stopped: what the
// snapshot holds per mount, and the staging volumes, checked and marked.
type prepared struct {
	stats   []restic.TreeStats
	st      *staging
	created []string
}

// prepareVolumes counts the snapshot's mounts, creates the staging volumes and runs the
// preflight. On failure, what it created is removed with remove.
func prepareVolumes(ctx context.Context, env Env, job Job) (*prepared, error) {
	svc := job.Service
	if err := checkLiveVolumes(ctx, env, svc); err != nil {
		return nil, err
	}
	stats, err := expected(ctx, env, job)
	if err != nil {
		return nil, err
	}
	p := &prepared{stats: stats, st: newStaging(env, svc, stats)}
	p.created, err = p.st.create(ctx, env, svc)
	if err != nil {
		return p, err
	}
	return p, preflight(ctx, env, engineSite{env}, svc, p.st, stats)
}

// remove removes the staging volumes; nil does nothing.
func (p *prepared) remove(ctx context.Context, env Env) {
	if p == nil {
		return
	}
	_ = engine.RemoveVolumes(context.WithoutCancel(ctx), env.API, p.created)
	p.created = nil
}

// restoreVolumes restores a volumes service, prepared (checked, staging volumes made
// and marked) before any service was stopped. The snapshot is restored into the staging
// volumes and verified while the service still runs (they are not its volumes); only
// then are the service's containers stopped and does one helper move the live content
// to new rollback volumes and the staged content into the live ones, so the service is
// down for the swap alone. Whatever fails before that swap, the live volumes are
// untouched, and no staging or rollback volume is left; containers stopped are started
// again in every case.
func restoreVolumes(ctx context.Context, env Env, job Job, p *prepared, opts Options, res *report.Result) (err error) {
	svc := job.Service
	if job.To != "" {
		stats, err := expected(ctx, env, job)
		if err != nil {
			return err
		}
		return restoreSideBySide(ctx, env, job, stats, res)
	}
	defer p.remove(ctx, env)
	st, want := p.st, sum(p.stats)

	env.Reporter.Step(svc.Name, fmt.Sprintf("restoring snapshot %s into staging volume(s) %s", job.Snapshot.ShortID, strings.Join(st.volumes, ", ")))
	var includes []string
	for _, m := range svc.Volumes {
		includes = append(includes, m.Path)
	}
	if err := restoreAndVerify(ctx, env, job, includes, st.resticMounts(svc), want); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	cs, err := engine.ServiceContainers(ctx, env.API, env.Plan.Project, svc.Name)
	if err != nil {
		return err
	}
	if len(cs) > 0 {
		env.Reporter.Step(svc.Name, fmt.Sprintf("stopping %d container(s) for the swap", len(cs)))
	}
	stopped, stopErr := env.Run.Stop(ctx, svc.Name, cs)
	defer func() {
		if serr := stopped.Restart(ctx); serr != nil && err == nil {
			err = serr
		}
	}()
	if stopErr != nil {
		return stopErr
	}

	rollback := make([]string, len(svc.Volumes))
	for i, m := range svc.Volumes {
		name := liveBase(env.Plan.Project, svc, m) + "-rollback-" + st.stamp
		l := env.Run.VolumeLabels(svc.Name)
		l[LabelRollback] = m.Source
		if err := engine.CreateNewVolume(ctx, env.API, name, l); err != nil {
			_ = engine.RemoveVolumes(context.WithoutCancel(ctx), env.API, rollback)
			return err
		}
		rollback[i] = name
	}
	env.Reporter.Step(svc.Name, "replacing the live content (previous content to "+strings.Join(rollback, ", ")+")")
	// Once begun, the swap runs to its end even on Ctrl-C: stopping a copy half-way would
	// leave the live volume neither old nor new. It is a local copy of staged data.
	sw, err := swap(context.WithoutCancel(ctx), env, engineSite{env}, svc, st, rollback)
	if sw.keep {
		// Neither all old nor all new: recovery finishes it from the records and
		// staging volumes, before it starts the service again.
		p.created = nil
		stopped.Leave()
		return err
	}
	if sw.records != "" {
		p.created = append(p.created, sw.records)
	}
	if err != nil {
		return err
	}
	for _, m := range svc.Volumes {
		res.Volumes = append(res.Volumes, m.Source)
	}
	if err := stopped.Restart(ctx); err != nil {
		return err
	}
	for i, m := range svc.Volumes {
		removeOldRollbacks(ctx, env, m.Source, rollback[i])
	}
	if opts.NoRollback {
		_ = engine.RemoveVolumes(ctx, env.API, rollback)
		return nil
	}
	res.Rollbacks = rollback
	return nil
}

// restoreSideBySide restores into new or empty volumes named after opts.To, leaving the
// service and its volumes alone. Volumes it created are removed again on failure.
func restoreSideBySide(ctx context.Context, env Env, job Job, stats []restic.TreeStats, res *report.Result) error {
	svc := job.Service
	if err := refuseFiles(svc, stats, "--to restores folders only (restore the service in place)"); err != nil {
		return err
	}
	var created []string
	ok := false
	defer func() {
		if !ok {
			_ = engine.RemoveVolumes(context.WithoutCancel(ctx), env.API, created)
		}
	}()
	for _, m := range svc.Volumes {
		name := SideBySideName(job.To, svc, m)
		exists, err := engine.VolumeExists(ctx, env.API, name)
		if err != nil {
			return err
		}
		if exists {
			if err := checkEmpty(ctx, env, svc.Name, name); err != nil {
				return err
			}
		} else {
			if err := engine.CreateVolume(ctx, env.API, name, env.Run.VolumeLabels(svc.Name)); err != nil {
				return err
			}
			created = append(created, name)
		}
		res.Volumes = append(res.Volumes, name)
	}
	env.Reporter.Step(svc.Name, fmt.Sprintf("restoring snapshot %s into %s", job.Snapshot.ShortID, strings.Join(res.Volumes, ", ")))
	if err := restoreIntoVolumes(ctx, env, job, res.Volumes, sum(stats)); err != nil {
		return err
	}
	ok = true
	return nil
}

// refuseFiles refuses a service with a bind-mounted file, which a restore into volumes
// (folders) cannot take; why says so for the caller.
func refuseFiles(svc composeext.ServicePlan, stats []restic.TreeStats, why string) error {
	for i, m := range svc.Volumes {
		if stats[i].Root == "file" {
			return fmt.Errorf("%s is a bind-mounted file: %s", m.Target, why)
		}
	}
	return nil
}

// restoreIntoVolumes restores each of the service's mounts into volumes[i], mounted at
// the mount's snapshot path, and verifies the result against want.
func restoreIntoVolumes(ctx context.Context, env Env, job Job, volumes []string, want restic.TreeStats) error {
	var mounts []restic.Mount
	var includes []string
	for i, m := range job.Service.Volumes {
		mounts = append(mounts, restic.Mount{Type: "volume", Source: volumes[i], Target: m.Path})
		includes = append(includes, m.Path)
	}
	return restoreAndVerify(ctx, env, job, includes, mounts, want)
}

// SideBySideName is the volume --to NAME restores a mount into: NAME itself for a
// service with one volume, NAME_<key> for each of several.
func SideBySideName(to string, svc composeext.ServicePlan, m composeext.Mount) string {
	if len(svc.Volumes) == 1 {
		return to
	}
	return to + "_" + path.Base(m.Path)
}

// expected counts what the snapshot holds for each of the service's volumes, before
// anything is stopped.
func expected(ctx context.Context, env Env, job Job) ([]restic.TreeStats, error) {
	var stats []restic.TreeStats
	for _, m := range job.Service.Volumes {
		st, err := restic.SnapshotFiles(ctx, env.Runner, job.Snapshot.ID, m.Path, job.Service.Name)
		if err != nil {
			return nil, err
		}
		stats = append(stats, st)
	}
	return stats, nil
}

// sum adds up the mounts' counts.
func sum(stats []restic.TreeStats) restic.TreeStats {
	var total restic.TreeStats
	for _, st := range stats {
		total.Nodes += st.Nodes
		total.Files += st.Files
		total.Dirs += st.Dirs
		total.Symlinks += st.Symlinks
		total.Other += st.Other
		total.Bytes += st.Bytes
		total.Links += st.Links
	}
	return total
}

// restoreAndVerify runs restic restore --verify into the mounts and compares its counts
// with the snapshot's.
func restoreAndVerify(ctx context.Context, env Env, job Job, includes []string, mounts []restic.Mount, want restic.TreeStats) error {
	svc := job.Service.Name
	sum, err := restic.Restore(ctx, env.Runner, restic.RestoreOptions{
		SnapshotID: job.Snapshot.ID, Includes: includes, Mounts: mounts, Service: svc,
		Progress: func(s restic.RestoreStatus) { env.Reporter.Progress(svc, s) },
	})
	if err != nil {
		return err
	}
	if err := verify(sum, want); err != nil {
		return err
	}
	env.Reporter.Step(svc, fmt.Sprintf("verified %d files, %d folders, %d links, %d bytes", want.Files, want.Dirs, want.Symlinks, want.Bytes))
	return nil
}

// verify compares restic's restore summary with what the snapshot holds: every node
// restored (a hard link is one), and every byte (a file's once, whatever its number of
// names: want counts them as restic does, see restic.SnapshotFiles).
func verify(sum restic.RestoreSummary, want restic.TreeStats) error {
	if sum.TotalFiles != want.Nodes || sum.FilesRestored+sum.FilesSkipped < want.Nodes {
		return fmt.Errorf("%w: restic restored %d of %d files and folders", errVerify, min(sum.TotalFiles, sum.FilesRestored), want.Nodes)
	}
	if sum.TotalBytes != want.Bytes || sum.BytesRestored+sum.BytesSkipped != want.Bytes {
		return fmt.Errorf("%w: restic restored %d of %d bytes", errVerify, sum.BytesRestored, want.Bytes)
	}
	return nil
}

// liveBase names the volumes made for a live mount: the volume's own name, or for a
// bind mount <project>_<service>_<path>.
func liveBase(project string, svc composeext.ServicePlan, m composeext.Mount) string {
	if m.Type == "volume" {
		return m.Source
	}
	return project + "_" + svc.Name + "_" + path.Base(m.Path)
}
