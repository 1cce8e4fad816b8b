package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
)

// drillVolumes restores a volumes service's snapshot into throwaway volumes (its
// bind-mounted files into one they share), compares what was restored with the
// snapshot (restic's --verify, counts and bytes), and runs the service's
// x-backup.verify, if any, in a throwaway container of the service's image with each
// folder and file at the service's path. The live volumes are never mounted.
func drillVolumes(ctx context.Context, env Env, job restore.Job, t *throwaways, res *report.Result) (string, error) {
	svc := job.Service
	base := t.name()
	newVolume := func(ctx context.Context) (string, error) {
		name := base + "-" + strconv.Itoa(len(t.volumes)+1)
		if err := engine.CreateNewVolume(ctx, env.API, name, t.labels()); err != nil {
			return "", err
		}
		t.volumes = append(t.volumes, name)
		return name, nil
	}
	start := time.Now()
	drilled, err := restore.RestoreInto(ctx, restoreEnv(env), job, newVolume)
	res.Duration = time.Since(start) // until it failed, too
	if err != nil {
		return "", err
	}
	// restic's own counts: every name a node (a hard link too), a file's bytes once.
	detail := fmt.Sprintf("%d files and folders, %d bytes restored and verified", drilled.Summary.TotalFiles, drilled.Summary.TotalBytes)
	if len(svc.Verify) == 0 {
		return detail, nil
	}

	image, user, err := serviceImage(ctx, env, svc.Name)
	if err != nil {
		return "", err
	}
	mounts, err := drilled.Mounts(ctx, env.API, svc)
	if err != nil {
		return "", err
	}
	env.Reporter.Step(svc.Name, "running x-backup.verify in a throwaway container of the service's image")
	line, err := runCheck("x-backup.verify", func(out, errOut *engine.Tail) (int, error) {
		return engine.RunHelper(ctx, env.API, engine.HelperSpec{
			Name: t.name(), Image: image, Entrypoint: svc.Verify[:1], Cmd: svc.Verify[1:], User: user,
			Mounts: mounts, Labels: t.labels(), NetworkMode: "none", Init: true, Stdout: out, Stderr: errOut,
		})
	})
	if err != nil {
		return "", err
	}
	return detail + "; " + line, nil
}

// serviceImage is the image and user of the service's first container, running or not.
func serviceImage(ctx context.Context, env Env, service string) (image, user string, err error) {
	cs, err := engine.ServiceContainers(ctx, env.API, env.Plan.Project, service)
	if err != nil {
		return "", "", err
	}
	if len(cs) == 0 {
		return "", "", errors.New("x-backup.verify runs in the service's image, and the service has no container to take it from (docker compose up --no-start creates one)")
	}
	return engine.ImageAndUser(ctx, env.API, cs[0].ID)
}
