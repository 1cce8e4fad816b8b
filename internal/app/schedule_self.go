package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// The labels compose puts on a service's container that say which project it is.
const (
	labelWorkingDir  = "com.docker.compose.project.working_dir"
	labelConfigFiles = "com.docker.compose.project.config_files"
	labelEnvFile     = "com.docker.compose.project.environment_file"
)

// ownMountinfo returns /proc/self/mountinfo, or what the app puts in its place.
func (a *App) ownMountinfo() string {
	if a.Mountinfo != nil {
		return a.Mountinfo()
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	return string(data)
}

// discoverProject makes the scheduler, as a service of its project, find that project
// by itself: from its own container's compose labels it takes the project name, the
// working directory and the compose files, host paths all, which its mounts show at the
// same paths (see --print). So relative bind mounts and the default repository resolve
// to the host paths compose resolved, and the snapshots are those of `up` on the host.
// It returns the container's ID; "" when it runs outside a container or was told the
// project (-f, -p, --project-directory), and then it loads the project as up does.
func (a *App) discoverProject(ctx context.Context, load *composeext.LoadOptions) (string, error) {
	if len(load.Files) > 0 || load.ProjectName != "" || load.ProjectDirectory != "" {
		return "", nil
	}
	id := engine.OwnContainerID(a.ownMountinfo())
	if id == "" {
		return "", nil
	}
	api, err := a.Docker()
	if err != nil {
		return "", err
	}
	labels, err := engine.ContainerLabels(ctx, api, id)
	if err != nil {
		return "", fmt.Errorf("finding the scheduler's own project: %w", err)
	}
	project, dir := labels[engine.LabelProject], labels[labelWorkingDir]
	if project == "" || dir == "" {
		return "", usageErrorf("this container (%s) is not a service of a compose project (no %s and %s labels): run the scheduler as a service of the project (docker backup schedule --print), or give -f and -p", engine.ShortID(id), engine.LabelProject, labelWorkingDir)
	}
	if _, err := os.Stat(dir); err != nil {
		return "", usageErrorf("the project's folder %s is not mounted into the scheduler at the same path (%v): mount it as %s:%s (docker backup schedule --print)", dir, err, dir, dir)
	}
	load.ProjectName = project
	load.ProjectDirectory = dir
	load.WorkingDir = dir
	load.Files = nil
	for _, f := range strings.Split(labels[labelConfigFiles], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		load.Files = append(load.Files, f)
	}
	if env := labels[labelEnvFile]; env != "" {
		load.EnvFiles = strings.Split(env, ",")
	}
	return id, nil
}

// loadOwnPlan finds the project as discoverProject does (load is updated with it) and
// loads its whole plan; self is the scheduler's container, if it runs in one.
func (a *App) loadOwnPlan(ctx context.Context, load *composeext.LoadOptions) (self string, plan *composeext.Plan, err error) {
	if self, err = a.discoverProject(ctx, load); err != nil {
		return "", nil, err
	}
	plan, err = LoadPlan(ctx, *load, nil)
	return self, plan, err
}
