package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// SchedulerStackLabel names, on a stack's scheduler service and its container, the
// stack it backs up (the scheduler runs in a stack of its own): status finds it so.
const SchedulerStackLabel = "io.docker-backup.scheduler.stack"

// stackFile is the file --print writes for a swarm stack: the scheduler service and
// the swarm secrets that carry the files it loads the project from.
type stackFile struct {
	Services map[string]stackScheduler `yaml:"services"`
	Secrets  map[string]stackSecret    `yaml:"secrets,omitempty"`
}

type stackScheduler struct {
	Image           string            `yaml:"image"`
	Command         []string          `yaml:"command"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Environment     map[string]string `yaml:"environment"`
	Volumes         []bindMount       `yaml:"volumes"`
	Secrets         []secretRef       `yaml:"secrets,omitempty"`
	Labels          map[string]string `yaml:"labels"`
	Deploy          stackDeploy       `yaml:"deploy"`
	XBackup         string            `yaml:"x-backup"`
}

type stackDeploy struct {
	Mode          string            `yaml:"mode"`
	Replicas      int               `yaml:"replicas"`
	Placement     stackPlacement    `yaml:"placement"`
	RestartPolicy stackRestart      `yaml:"restart_policy"`
	Labels        map[string]string `yaml:"labels"`
}

type stackPlacement struct {
	Constraints []string `yaml:"constraints"`
}

type stackRestart struct {
	Condition string `yaml:"condition"`
	Delay     string `yaml:"delay"`
}

type secretRef struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
	// Mode is the file's mode, a number (0o400 is written 256: stack deploy reads no
	// string there).
	Mode int `yaml:"mode"`
}

type stackSecret struct {
	Name string `yaml:"name"`
	File string `yaml:"file"`
}

// carriedFile is a file the scheduler on a stack loads the project from, carried to it
// as a swarm secret mounted at the file's own path.
type carriedFile struct{ key, path string }

// printStackScheduler writes the scheduler of stack st as a stack file of its own: one
// replica on a manager (node.role == manager), that manager's socket, our prebuilt
// agent image (a swarm's nodes cannot build one), and the project's files (compose
// files, env files, the password file) as swarm secrets mounted at their paths here,
// so that it loads the project as this command did, on whichever manager it runs.
// Secrets, not a bind mount of the project folder: the folder is this machine's, and
// a manager need not have it; a secret reaches any manager the scheduler is moved to,
// and `docker service inspect` never shows what it holds (a compose file may hold
// credentials).
func (a *App) printStackScheduler(opts ScheduleOptions, plan *composeext.Plan, w io.Writer, warn func(string)) error {
	if err := stackNeeds(plan); err != nil {
		return err
	}
	image := plan.AgentImage
	socket := composeext.DefaultDockerSocket
	if !plan.DockerSocketDefault {
		socket = plan.DockerSocket
	}
	// The socket is the manager's; the scheduler's own path for it is the default.
	plan.DockerSocket = composeext.DefaultDockerSocket
	env := a.schedulerEnv(opts.Load, plan, image)
	vars := interpolatedVariables(plan.ComposeFiles, a.Getenv)
	for k, v := range vars.carried {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	envFiles := projectEnvFiles(opts.Load, plan)
	fromEnvFile, missing := vars.split(composeext.EnvFileNames(envFiles))
	files, command := stackSchedulerFiles(opts.Load, plan, envFiles)
	svc := stackScheduler{
		Image: image, Command: command, StopGracePeriod: schedulerStopGrace,
		Environment: env,
		Volumes:     []bindMount{{Type: "bind", Source: socket, Target: "/var/run/docker.sock"}},
		Labels:      map[string]string{SchedulerLabel: "true", SchedulerStackLabel: plan.Project},
		Deploy: stackDeploy{
			Mode: "replicated", Replicas: 1,
			Placement:     stackPlacement{Constraints: []string{"node.role == manager"}},
			RestartPolicy: stackRestart{Condition: "any", Delay: "10s"},
			Labels:        map[string]string{SchedulerLabel: "true", SchedulerStackLabel: plan.Project},
		},
		XBackup: string(composeext.StrategyNone),
	}
	doc := stackFile{Services: map[string]stackScheduler{opts.ServiceName: svc}}
	for _, f := range files {
		if doc.Secrets == nil {
			doc.Secrets = map[string]stackSecret{}
		}
		name, err := secretName(plan.Project, f)
		if err != nil {
			return err
		}
		doc.Secrets[f.key] = stackSecret{Name: name, File: f.path}
		svc.Secrets = append(svc.Secrets, secretRef{Source: f.key, Target: f.path, Mode: 0o400})
	}
	doc.Services[opts.ServiceName] = svc
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("writing the scheduler's stack file: %w", err)
	}
	fmt.Fprintf(w, "# docker-backup's scheduler for swarm stack %s (docker backup -p %s schedule --print).\n", plan.Project, plan.Project)
	fmt.Fprintf(w, "# It runs `docker backup up` on x-backup.schedule (%s) against the stack, from a manager.\n", plan.Schedule)
	fmt.Fprintf(w, "# Deploy it as a stack of its own, on a manager: docker stack deploy -c FILE %s-backup\n", plan.Project)
	fmt.Fprintln(w, "# It mounts the manager's socket: whoever controls this container can create a service")
	fmt.Fprintln(w, "# on every node of the swarm, root on all of them included. The compose files, env files")
	fmt.Fprintln(w, "# and the password file are carried as swarm secrets at their paths here; after editing")
	fmt.Fprintln(w, "# one, print this file again and deploy it again (a secret's name holds its content's hash).")
	if len(fromEnvFile) > 0 {
		fmt.Fprintf(w, "# Secrets it reads from %s itself, never written here: %s.\n", strings.Join(envFiles, ", "), strings.Join(fromEnvFile, ", "))
	}
	if _, err := w.Write(out); err != nil {
		return err
	}
	if a.Getenv("RESTIC_PASSWORD") != "" {
		warn("RESTIC_PASSWORD is not written into the file (a secret): give the project a password_file, which the file carries as a swarm secret")
	}
	if len(missing) > 0 {
		warn(fmt.Sprintf("the compose files use %s, set here and not written into the file (secrets): put them in %s, which the file carries as a swarm secret",
			strings.Join(missing, ", "), strings.Join(envFiles, " or ")))
	}
	if len(plan.Repository.PasswordCommand) > 0 {
		warn("x-backup.password_command runs inside the scheduler on a manager, not here: it must work there")
	}
	return nil
}

// stackSchedulerFiles are the files the stack's scheduler loads the project from, and
// its command, which names the project, its folder and files as this command loaded
// them (the scheduler's container has no compose labels to find them by).
func stackSchedulerFiles(load composeext.LoadOptions, plan *composeext.Plan, envFiles []string) ([]carriedFile, []string) {
	command := []string{"schedule", "-p", plan.Project, "--project-directory", plan.WorkingDir}
	var files []carriedFile
	var seen []string
	add := func(key, path string) bool {
		if path == "" || slices.Contains(seen, path) {
			return false
		}
		if _, err := os.Stat(path); err != nil {
			return false
		}
		seen = append(seen, path)
		files = append(files, carriedFile{key: fmt.Sprintf("%s-%d", key, len(files)+1), path: path})
		return true
	}
	for _, f := range plan.ComposeFiles {
		add("compose", f)
		command = append(command, "-f", f)
	}
	for _, f := range envFiles {
		// The default .env is read when it is there; --env-file names what was given.
		if add("env", f) && len(load.EnvFiles) > 0 {
			command = append(command, "--env-file", f)
		}
	}
	for _, f := range plan.ReadFiles {
		add("file", f)
	}
	if plan.Repository.PasswordFile != "" && !plan.Repository.GeneratePassword {
		add("password", plan.Repository.PasswordFile)
	}
	return files, append(command, "--state-file", schedule.StateFile)
}

// secretName is the swarm secret's name for a carried file: the project, the key and a
// hash of the content, so that a file edited and deployed again is a new secret (a
// swarm secret cannot change).
func secretName(project string, f carriedFile) (string, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return "", fmt.Errorf("reading %s for the scheduler's secrets: %w", f.path, err)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s-backup-%s-%s", project, f.key, hex.EncodeToString(sum[:4])), nil
}

// findStackScheduler reads the state of a stack's scheduler (printStackScheduler's
// service, labelled SchedulerStackLabel) from its container on the manager asked. Its
// task may run on another manager, whose containers this one cannot read: that is a
// line naming the service and where to ask. nil, nil: there is no scheduler.
func findStackScheduler(ctx context.Context, _ string, api engine.API, plan *composeext.Plan, _ string) (*SchedulerView, error) {
	label := SchedulerStackLabel + "=" + plan.Project
	found, err := engine.ContainersWithLabels(ctx, api, label)
	if err != nil {
		return nil, err
	}
	if len(found) > 0 {
		return readSchedulerContainer(ctx, api, found)
	}
	services, err := engine.ServicesWithLabels(ctx, api, label)
	if err != nil || len(services) == 0 {
		return nil, err
	}
	return nil, fmt.Errorf("the scheduler of stack %s (service %s) does not run on this manager: run docker backup status against the manager that runs its task (docker service ps %s)",
		plan.Project, services[0].Name, services[0].Name)
}
