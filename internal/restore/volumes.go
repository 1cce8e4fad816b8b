package restore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// prepared is a volume restore made ready before any service is stopped: the staging
// volumes, checked and marked, or to be checked and marked by the restore's own helper
// (first).
type prepared struct {
	st      *staging
	created []string
	first   bool
}

// prepareVolumes finds which mounts are files, creates the staging volumes and runs the
// preflight, unless first: the run's first job has its preflight in its restore's
// helper (preflightFirst). On failure, what it created is removed with remove.
func prepareVolumes(ctx context.Context, env Env, job Job, first bool) (*prepared, error) {
	svc := job.Service
	if err := checkLiveVolumes(ctx, env, svc); err != nil {
		return nil, err
	}
	files, err := fileMounts(ctx, env, job)
	if err != nil {
		return nil, err
	}
	p := &prepared{st: newStaging(env, svc, files), first: first}
	p.created, err = p.st.create(ctx, env, svc)
	if err != nil || first {
		return p, err
	}
	return p, preflight(ctx, env, engineSite{env}, job, p.st)
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
		files, err := fileMounts(ctx, env, job)
		if err != nil {
			return err
		}
		return restoreSideBySide(ctx, env, job, files, res)
	}
	defer p.remove(ctx, env)
	st := p.st

	var pre restic.RestoreOptions
	what := "restoring snapshot %s into staging volume(s) %s"
	if p.first {
		if pre, err = preflightFirst(job, st); err != nil {
			return err
		}
		what = "checking the live mounts and the free space, then restoring snapshot %s into staging volume(s) %s"
	}
	env.Reporter.Step(svc.Name, fmt.Sprintf(what, job.Snapshot.ShortID, strings.Join(st.volumes, ", ")))
	var includes []string
	for _, m := range svc.Volumes {
		includes = append(includes, m.Path)
	}
	if _, err := restoreAndVerify(ctx, env, job, includes, st.resticMounts(svc), pre); err != nil {
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
func restoreSideBySide(ctx context.Context, env Env, job Job, files []bool, res *report.Result) error {
	svc := job.Service
	if err := refuseFiles(svc, files, "--to restores folders only (restore the service in place)"); err != nil {
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
	if err := restoreIntoVolumes(ctx, env, job, res.Volumes); err != nil {
		return err
	}
	ok = true
	return nil
}

// refuseFiles refuses a service with a bind-mounted file, which a restore into volumes
// (folders) cannot take; why says so for the caller.
func refuseFiles(svc composeext.ServicePlan, files []bool, why string) error {
	for i, m := range svc.Volumes {
		if files[i] {
			return fmt.Errorf("%s is a bind-mounted file: %s", m.Target, why)
		}
	}
	return nil
}

// restoreIntoVolumes restores each of the service's mounts into volumes[i], mounted at
// the mount's snapshot path, and verifies the result.
func restoreIntoVolumes(ctx context.Context, env Env, job Job, volumes []string) error {
	var mounts []restic.Mount
	var includes []string
	for i, m := range job.Service.Volumes {
		mounts = append(mounts, restic.Mount{Type: "volume", Source: volumes[i], Target: m.Path})
		includes = append(includes, m.Path)
	}
	_, err := restoreAndVerify(ctx, env, job, includes, mounts, restic.RestoreOptions{})
	return err
}

// SideBySideName is the volume --to NAME restores a mount into: NAME itself for a
// service with one volume, NAME_<key> for each of several.
func SideBySideName(to string, svc composeext.ServicePlan, m composeext.Mount) string {
	if len(svc.Volumes) == 1 {
		return to
	}
	return to + "_" + path.Base(m.Path)
}

// fileMounts says which of the service's mounts the snapshot holds as a file (a
// bind-mounted file) rather than a folder, before anything is stopped. A volume is a
// folder: it needs no look. Only bind mounts, which may be either, are looked up in the
// snapshot, all with one `restic ls` that is not recursive (the paths and the entries of
// folders, nothing deeper); a service of volumes alone runs no restic for it. The
// preflight then checks each live mount is of the same kind.
func fileMounts(ctx context.Context, env Env, job Job) ([]bool, error) {
	files := make([]bool, len(job.Service.Volumes))
	var binds []string
	for _, m := range job.Service.Volumes {
		if m.Type != "volume" {
			binds = append(binds, m.Path)
		}
	}
	if len(binds) == 0 {
		return files, nil
	}
	types, err := restic.RootTypes(ctx, env.Runner, job.Snapshot.ID, binds, job.Service.Name)
	if err != nil {
		return nil, err
	}
	for i, m := range job.Service.Volumes {
		if m.Type == "volume" {
			continue
		}
		t, ok := types[m.Path]
		if !ok {
			return nil, snapshotErrorf("snapshot %s holds no %s (%s)", job.Snapshot.ShortID, m.Path, m.Key)
		}
		files[i] = t == "file"
	}
	return files, nil
}

// restoreAndVerify runs restic restore --verify into the mounts (restic reads back
// every file it wrote and compares it with the snapshot) and checks restic's summary
// says it restored everything it counted in the snapshot under includes, which hold at
// least their own nodes. It returns that summary. pre's Before, Files and Mounts, if
// any, are a preflight that runs in restic's helper first (preflightFirst).
func restoreAndVerify(ctx context.Context, env Env, job Job, includes []string, mounts []restic.Mount, pre restic.RestoreOptions) (restic.RestoreSummary, error) {
	svc := job.Service.Name
	sum, err := restic.Restore(ctx, env.Runner, restic.RestoreOptions{
		SnapshotID: job.Snapshot.ID, Includes: includes, Mounts: append(mounts, pre.Mounts...), Service: svc,
		Files: pre.Files, Before: pre.Before,
		Progress: func(s restic.RestoreStatus) { env.Reporter.Progress(svc, s) },
	})
	var exit *restic.ExitError
	if pre.Before != "" && errors.As(err, &exit) && exit.Code >= agent.PreflightTarget && exit.Code <= agent.PreflightSpace {
		return sum, preflightFailure(exit.Code, ": "+strings.TrimSpace(exit.Message))
	}
	if err != nil {
		return sum, err
	}
	if err := verify(sum, len(includes)); err != nil {
		return sum, err
	}
	env.Reporter.Step(svc, fmt.Sprintf("verified %d files and folders, %d bytes", sum.TotalFiles, sum.TotalBytes))
	return sum, nil
}

// verify checks restic's restore summary (restic.RestoreSummary.Complete), and that it
// counted at least the roots of the paths restored: a restore that found none of them
// restored nothing.
func verify(sum restic.RestoreSummary, roots int) error {
	if err := sum.Complete(); err != nil {
		return fmt.Errorf("%w: %w", errVerify, err)
	}
	if sum.TotalFiles < uint64(roots) {
		return fmt.Errorf("%w: restic restored %d files and folders, fewer than the %d paths restored", errVerify, sum.TotalFiles, roots)
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
