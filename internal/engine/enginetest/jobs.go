package enginetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Job is a one-shot service (one replica, never restarted: engine.RunJob) a manager
// was asked to create, as its JobProgram sees it: it runs at once, on creation.
type Job struct {
	ID   string
	Spec swarm.ServiceSpec
	// Secrets are the data of the secrets its spec references, by target path.
	Secrets map[string][]byte
	// Stdout and Stderr are what it printed: its service's logs.
	Stdout, Stderr bytes.Buffer
	// Removed is true once ServiceRemove removed it.
	Removed bool
	// Running, set by its program, leaves its task running: it never ends.
	Running bool
}

// Agent plays a socket job (agent dump…) as Engine.Agent plays a helper: its spec's
// entrypoint, arguments and environment, its secrets as its files, no input (a task
// has none: it reads as ended at once), its output as its logs. node is the engine
// behind the socket it binds: the engine of the node it runs on (a worker's).
func (j *Job) Agent(node *Engine, rst *Restic) int {
	cs := j.Spec.TaskTemplate.ContainerSpec
	files := map[string]string{}
	for path, data := range j.Secrets {
		files[path] = string(data)
	}
	p := &Process{Stdin: eofReader{}, Stdout: &j.Stdout, Stderr: &j.Stderr}
	p.Config.Entrypoint, p.Config.Cmd, p.Config.Env = cs.Command, cs.Args, cs.Env
	p.Config.Labels, p.Files = cs.Labels, files
	return node.Agent(rst, p)
}

// JobProgram is what a job does: it writes its output and returns its exit code.
type JobProgram func(j *Job) int

// ServiceCreate creates a job (only one-shot services are supported): it runs
// Swarm.Job at once, and its one task is then complete (exit 0) or failed.
func (e *Engine) ServiceCreate(_ context.Context, o client.ServiceCreateOptions) (client.ServiceCreateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "service-create")
	sw, err := e.manager("service-create")
	if err != nil {
		return client.ServiceCreateResult{}, err
	}
	if r := o.Spec.TaskTemplate.RestartPolicy; o.Spec.Mode.Replicated == nil || r == nil || r.Condition != swarm.RestartPolicyConditionNone {
		return client.ServiceCreateResult{}, fmt.Errorf("enginetest: only one-shot services (replicated, restart condition none) are supported")
	}
	j := &Job{ID: fmt.Sprintf("job-%d", len(sw.Jobs)+1), Spec: o.Spec, Secrets: map[string][]byte{}}
	for _, ref := range o.Spec.TaskTemplate.ContainerSpec.Secrets {
		s, ok := sw.secrets[ref.SecretID]
		if !ok {
			return client.ServiceCreateResult{}, fmt.Errorf("secret %s not found: %w", ref.SecretID, cerrdefs.ErrNotFound)
		}
		j.Secrets[ref.File.Name] = s.Spec.Data
	}
	code := 0
	if sw.Job != nil {
		code = sw.Job(j)
	}
	sw.Jobs = append(sw.Jobs, j)
	sw.Services = append(sw.Services, swarm.Service{ID: j.ID, Spec: o.Spec})
	state := swarm.TaskStateComplete
	switch {
	case j.Running:
		state = swarm.TaskStateRunning
	case code != 0:
		state = swarm.TaskStateFailed
	}
	sw.Tasks = append(sw.Tasks, swarm.Task{ID: j.ID + "-task", ServiceID: j.ID, DesiredState: swarm.TaskStateComplete,
		Status: swarm.TaskStatus{State: state, ContainerStatus: &swarm.ContainerStatus{ExitCode: code}}})
	return client.ServiceCreateResult{ID: j.ID}, nil
}

// ServiceRemove removes a job and its task.
func (e *Engine) ServiceRemove(_ context.Context, id string, _ client.ServiceRemoveOptions) (client.ServiceRemoveResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "service-remove")
	sw, err := e.manager("service-remove")
	if err != nil {
		return client.ServiceRemoveResult{}, err
	}
	i := slices.IndexFunc(sw.Services, func(s swarm.Service) bool { return s.ID == id })
	if i < 0 {
		return client.ServiceRemoveResult{}, fmt.Errorf("service %s not found: %w", id, cerrdefs.ErrNotFound)
	}
	sw.Services = slices.Delete(sw.Services, i, i+1)
	sw.Tasks = slices.DeleteFunc(sw.Tasks, func(t swarm.Task) bool { return t.ServiceID == id })
	for _, j := range sw.Jobs {
		if j.ID == id {
			j.Removed = true
		}
	}
	return client.ServiceRemoveResult{}, nil
}

// ServiceLogs returns a job's output, multiplexed as the engine sends it.
func (e *Engine) ServiceLogs(_ context.Context, id string, o client.ServiceLogsOptions) (client.ServiceLogsResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw, err := e.manager("service-logs")
	if err != nil {
		return nil, err
	}
	for _, j := range sw.Jobs {
		if j.ID == id && !j.Removed {
			var b bytes.Buffer
			if o.ShowStdout {
				_, _ = frameWriter{w: &b, stream: 1}.Write(j.Stdout.Bytes())
			}
			if o.ShowStderr && j.Stderr.Len() > 0 {
				_, _ = frameWriter{w: &b, stream: 2}.Write(j.Stderr.Bytes())
			}
			return io.NopCloser(&b), nil
		}
	}
	return nil, fmt.Errorf("service %s not found: %w", id, cerrdefs.ErrNotFound)
}

// SecretCreate stores a secret.
func (e *Engine) SecretCreate(_ context.Context, o client.SecretCreateOptions) (client.SecretCreateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "secret-create")
	sw, err := e.manager("secret-create")
	if err != nil {
		return client.SecretCreateResult{}, err
	}
	if sw.secrets == nil {
		sw.secrets = map[string]swarm.Secret{}
	}
	sw.secretSeq++
	id := fmt.Sprintf("secret-%d", sw.secretSeq)
	sw.secrets[id] = swarm.Secret{ID: id, Spec: o.Spec}
	return client.SecretCreateResult{ID: id}, nil
}

// SecretRemove removes a secret.
func (e *Engine) SecretRemove(_ context.Context, id string, _ client.SecretRemoveOptions) (client.SecretRemoveResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "secret-remove")
	sw, err := e.manager("secret-remove")
	if err != nil {
		return client.SecretRemoveResult{}, err
	}
	if _, ok := sw.secrets[id]; !ok {
		return client.SecretRemoveResult{}, fmt.Errorf("secret %s not found: %w", id, cerrdefs.ErrNotFound)
	}
	delete(sw.secrets, id)
	return client.SecretRemoveResult{}, nil
}

// SecretCount is how many secrets exist in the swarm.
func (s *Swarm) SecretCount() int { return len(s.secrets) }

// SecretList lists the swarm's secrets that match the label and name filters.
func (e *Engine) SecretList(_ context.Context, o client.SecretListOptions) (client.SecretListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw, err := e.manager("secret-list")
	if err != nil {
		return client.SecretListResult{}, err
	}
	var out []swarm.Secret
	for _, id := range slices.Sorted(maps.Keys(sw.secrets)) {
		s := sw.secrets[id]
		ok, err := matches(o.Filters, s.Spec.Name, s.Spec.Labels)
		if err != nil {
			return client.SecretListResult{}, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return client.SecretListResult{Items: out}, nil
}
