package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// SchedulerLabel marks the scheduler service's container, for status.
const SchedulerLabel = "io.docker-backup.scheduler"

// schedulerStopGrace is the scheduler's stop_grace_period: a run in progress is ended
// cleanly (stopped services started again, restic's locks removed) within it.
const schedulerStopGrace = "1m"

// composeFile is the compose file --print writes: one service.
type composeFile struct {
	Services map[string]schedulerService `yaml:"services"`
}

type schedulerService struct {
	Image           string            `yaml:"image"`
	Command         []string          `yaml:"command"`
	Restart         string            `yaml:"restart"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Environment     map[string]string `yaml:"environment"`
	Volumes         []bindMount       `yaml:"volumes"`
	Labels          map[string]string `yaml:"labels"`
	XBackup         string            `yaml:"x-backup"`
}

type bindMount struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only,omitempty"`
}

// carriedSettings are the machine's settings of docker-backup that the scheduler must
// see as the host's commands do; none of them is a secret.
var carriedSettings = []string{
	"DOCKER_BACKUP_HOST", "DOCKER_BACKUP_NETWORK", "DOCKER_BACKUP_CACHE_VOLUME", "TZ",
}

// PrintScheduler writes to w the scheduler service of the project, as a compose file:
// our image as provisioned on this engine, the engine's socket, and the project's folder
// (and the files it needs from elsewhere) at the same paths as on the host. For a swarm
// stack it is a stack file of its own (printStackScheduler). What the file cannot carry
// is a warning.
func (a *App) PrintScheduler(ctx context.Context, opts ScheduleOptions, w io.Writer, sink Sink) error {
	plan, err := LoadPlan(ctx, opts.Load, nil)
	if err != nil {
		return err
	}
	if plan.Schedule == "" {
		return errNoSchedule(plan)
	}
	st, _, err := a.findStack(ctx, plan.Project, "schedule", WarnFunc(sink))
	if err != nil {
		return err
	}
	if st != nil {
		return a.printStackScheduler(opts, plan, w, WarnFunc(sink))
	}
	api, err := a.Docker()
	if err != nil {
		return err
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return err
	}
	image, err := a.agentImage(ctx, api, plan, info)
	if err != nil {
		return err
	}
	// The socket this engine's dump helpers get: the scheduler mounts it too.
	plan.DockerSocket, _ = a.dumpSocket(plan, info)
	env := a.schedulerEnv(opts.Load, plan, image)
	vars := interpolatedVariables(plan.ComposeFiles, a.Getenv)
	for k, v := range vars.carried {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	envFiles := projectEnvFiles(opts.Load, plan)
	fromEnvFile, missing := vars.split(composeext.EnvFileNames(envFiles))
	svc := schedulerService{
		Image: image, Command: []string{"schedule"}, Restart: "unless-stopped",
		StopGracePeriod: schedulerStopGrace,
		Environment:     env,
		Volumes:         schedulerMounts(plan),
		Labels:          map[string]string{SchedulerLabel: "true"},
		XBackup:         string(composeext.StrategyNone),
	}
	out, err := yaml.Marshal(composeFile{Services: map[string]schedulerService{opts.ServiceName: svc}})
	if err != nil {
		return fmt.Errorf("writing the scheduler's compose file: %w", err)
	}
	fmt.Fprintf(w, "# docker-backup's scheduler for project %s (docker backup schedule --print).\n", plan.Project)
	fmt.Fprintf(w, "# It runs `docker backup up` on x-backup.schedule (%s) as a service of the project.\n", plan.Schedule)
	fmt.Fprintln(w, "# Use it as an extra file, e.g.: docker compose -f compose.yaml -f compose.backup.yaml up -d")
	fmt.Fprintln(w, "# It mounts the engine's socket: whoever controls this container controls the engine,")
	fmt.Fprintln(w, "# root on its host included. The project folder is mounted at the same path as on the")
	fmt.Fprintln(w, "# host, so that bind mounts and the repository resolve as for `docker backup up`.")
	if len(fromEnvFile) > 0 {
		fmt.Fprintf(w, "# Secrets it reads from %s itself, never written here: %s.\n", strings.Join(envFiles, ", "), strings.Join(fromEnvFile, ", "))
	}
	_, err = w.Write(out)
	warn := WarnFunc(sink)
	if loc, lerr := a.locate(); lerr == nil && loc.Remote {
		warn(fmt.Sprintf("the engine runs on another machine (%s): the scheduler reads the project folder %s on the engine's host, where it must be at that path", loc.Endpoint, plan.WorkingDir))
	}
	if a.Getenv("RESTIC_PASSWORD") != "" {
		warn("RESTIC_PASSWORD is not written into the file (a secret): give the project a password_file the scheduler can read")
	}
	if len(missing) > 0 {
		warn(fmt.Sprintf("the compose files use %s, set here and not written into the file (secrets): put them in %s, which the scheduler reads",
			strings.Join(missing, ", "), strings.Join(envFiles, " or ")))
	}
	return err
}

// printedVariables are the variables the compose files interpolate that are set where
// --print runs: carried into the scheduler's environment (an image tag, a path), or
// withheld as secrets, each with the place that makes it one.
type printedVariables struct {
	carried  map[string]string
	withheld []withheldVariable
}

// withheldVariable is a secret variable set where --print runs, and why it is one.
type withheldVariable struct{ name, why string }

// interpolatedVariables sorts the variables the compose files interpolate and that are
// set in this environment by composeext's one rule (ReadVariables): a variable that
// feeds a secret (a service's environment, a notify or healthcheck URL, a secret backend
// setting, a password) or is named like one is never written into the file; the
// scheduler reads it from the project's .env, where compose's own interpolation finds it
// too.
func interpolatedVariables(files []string, getenv func(string) string) printedVariables {
	read := composeext.ReadVariables(files)
	out := printedVariables{carried: map[string]string{}}
	for _, name := range read.Names {
		v := getenv(name)
		if v == "" {
			continue
		}
		if why, secret := read.Secret[name]; secret {
			out.withheld = append(out.withheld, withheldVariable{name, why})
			continue
		}
		out.carried[name] = v
	}
	return out
}

// split names the withheld variables that the env files define (the scheduler reads
// them there) and, with why, those they do not (the user must provide them).
func (p printedVariables) split(defined map[string]bool) (inFile, missing []string) {
	for _, w := range p.withheld {
		if defined[w.name] {
			inFile = append(inFile, w.name)
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s)", w.name, w.why))
		}
	}
	return inFile, missing
}

// projectEnvFiles are the env files the scheduler reads as it loads the project: those
// given to --print (--env-file; give them to compose as it deploys, which labels the
// container with them), else the project folder's .env.
func projectEnvFiles(load composeext.LoadOptions, plan *composeext.Plan) []string {
	if len(load.EnvFiles) == 0 {
		return []string{filepath.Join(plan.WorkingDir, ".env")}
	}
	files := make([]string, len(load.EnvFiles))
	for i, f := range load.EnvFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(load.WorkingDir, f)
		}
		files[i] = f
	}
	return files
}

// schedulerEnv carries the image and the settings given to --print (flags, the
// machine's DOCKER_BACKUP_* variables) into the scheduler: it then plans as they did.
func (a *App) schedulerEnv(load composeext.LoadOptions, plan *composeext.Plan, image string) map[string]string {
	env := map[string]string{"DOCKER_BACKUP_AGENT_IMAGE": image}
	for _, k := range carriedSettings {
		if v := a.Getenv(k); v != "" {
			env[k] = v
		}
	}
	given := func(flag, key string) bool { return flag != "" || a.Getenv(key) != "" }
	if given(load.Repository, "DOCKER_BACKUP_REPOSITORY") {
		env["DOCKER_BACKUP_REPOSITORY"] = plan.Repository.URL
	}
	if given(load.PasswordFile, "DOCKER_BACKUP_PASSWORD_FILE") {
		env["DOCKER_BACKUP_PASSWORD_FILE"] = plan.Repository.PasswordFile
	}
	if given(load.Image, "DOCKER_BACKUP_IMAGE") {
		env["DOCKER_BACKUP_IMAGE"] = plan.Image
	}
	// Inside the scheduler the socket is /var/run/docker.sock, whichever it is on the host.
	if given(load.DockerSocket, "DOCKER_BACKUP_DOCKER_SOCKET") || plan.DockerSocket != composeext.DefaultDockerSocket {
		env["DOCKER_BACKUP_DOCKER_SOCKET"] = plan.DockerSocket
	}
	return env
}

// schedulerMounts are the engine's socket, the project folder, and what the plan
// reads outside it (compose files, env files, the password files, folder repositories,
// the copies' too), each at its own path.
func schedulerMounts(plan *composeext.Plan) []bindMount {
	mounts := []bindMount{
		{Type: "bind", Source: plan.DockerSocket, Target: "/var/run/docker.sock"},
		{Type: "bind", Source: plan.WorkingDir, Target: plan.WorkingDir},
	}
	var seen []string
	add := func(path string, readOnly bool) {
		if path == "" || within(plan.WorkingDir, path) || slices.Contains(seen, path) {
			return
		}
		seen = append(seen, path)
		mounts = append(mounts, bindMount{Type: "bind", Source: path, Target: path, ReadOnly: readOnly})
	}
	for _, f := range plan.ComposeFiles {
		add(f, true)
	}
	if plan.Repository.PasswordFile != "" && !plan.Repository.GeneratePassword {
		add(plan.Repository.PasswordFile, true)
	}
	if plan.Repository.Local {
		add(plan.Repository.URL, false)
	}
	// The env files the plan reads (x-backup's, its copies', the services'), and each
	// copy's password file and folder: the scheduler copies too.
	for _, f := range plan.ReadFiles {
		add(f, true)
	}
	for _, c := range plan.Copies {
		add(c.Repository.PasswordFile, true)
		if c.Repository.Local {
			add(c.Repository.URL, false)
		}
	}
	return mounts
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
