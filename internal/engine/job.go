package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// JobSpec is a one-shot swarm service pinned to one node: a helper that runs where a
// stack's volume is. It is a replicated service of one task that is never restarted,
// not a replicated-job: Engine 20.10 leaves a job's task and container on its node
// after the job's service is removed (moby 44312, fixed in 24), a replicated
// service's it removes. Its files reach it as swarm
// secrets, created for it and removed with it, so they never show in the service's
// spec (`docker service inspect`).
type JobSpec struct {
	// Name is the service's; its secrets are named <Name>-<i>.
	Name  string
	Image string
	// NodeID is the node it runs on (constraint node.id==NodeID).
	NodeID               string
	Entrypoint, Cmd, Env []string
	Mounts               []mount.Mount
	// Labels go on the service, its containers and its secrets.
	Labels   map[string]string
	Hostname string
	// Network is the network its task joins ("host", or a network's name); empty: the
	// node's default.
	Network string
	Init    bool
	// Files are secrets, mounted read-only at their absolute paths.
	Files []File
	// Stdout and Stderr get the job's output, read through the service's logs once it
	// has ended.
	Stdout, Stderr io.Writer
	// Live, if set, gets the job's standard output while it runs, followed through the
	// service's logs: for progress only, as a followed log may miss lines (Stdout gets
	// them all, once the job has ended).
	Live io.Writer
	// Poll is how often the job's task is looked at; a second when zero.
	Poll time.Duration
	// Created, if set, is called with the service's ID once it exists (tests inspect it).
	Created func(serviceID string)
}

// RunJob creates the job's secrets and service, waits for its task to end and returns
// its exit code. The service and secrets are removed whatever happens, a cancelled ctx
// included.
func RunJob(ctx context.Context, api API, spec JobSpec) (code int, err error) {
	cleanup := func(what string, remove func(context.Context) error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := remove(rctx); rerr != nil && err == nil {
			err = fmt.Errorf("removing %s: %w", what, rerr)
		}
	}
	var refs []*swarm.SecretReference
	for i, f := range spec.Files {
		name := fmt.Sprintf("%s-%d", spec.Name, i)
		res, cerr := api.SecretCreate(ctx, client.SecretCreateOptions{Spec: swarm.SecretSpec{
			Annotations: swarm.Annotations{Name: name, Labels: spec.Labels}, Data: f.Data,
		}})
		if cerr != nil {
			return -1, fmt.Errorf("creating secret %s of job %s: %w", name, spec.Name, cerr)
		}
		defer cleanup("secret "+name, func(c context.Context) error {
			_, rerr := api.SecretRemove(c, res.ID, client.SecretRemoveOptions{})
			return rerr
		})
		refs = append(refs, &swarm.SecretReference{SecretID: res.ID, SecretName: name, File: &swarm.SecretReferenceFileTarget{
			Name: f.Path, UID: "0", GID: "0", Mode: os.FileMode(f.Mode),
		}})
	}
	one := uint64(1)
	// Replicated, not ReplicatedJob: see JobSpec.
	init := spec.Init
	svc := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: spec.Name, Labels: spec.Labels},
		Mode:        swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image: spec.Image, Command: spec.Entrypoint, Args: spec.Cmd, Env: spec.Env,
				Mounts: spec.Mounts, Labels: spec.Labels, Hostname: spec.Hostname, Init: &init, Secrets: refs,
			},
			Placement:     &swarm.Placement{Constraints: []string{"node.id==" + spec.NodeID}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
		},
	}
	if spec.Network != "" {
		svc.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: spec.Network}}
	}
	// No registry is asked: the image must be on the node already (agent_image).
	res, err := api.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: svc})
	if err != nil {
		return -1, fmt.Errorf("creating job %s on node %s: %w", spec.Name, spec.NodeID, err)
	}
	defer cleanup("job "+spec.Name, func(c context.Context) error {
		_, rerr := api.ServiceRemove(c, res.ID, client.ServiceRemoveOptions{})
		return rerr
	})
	if spec.Created != nil {
		spec.Created(res.ID)
	}
	stopLive := followJob(ctx, api, res.ID, spec.Live)
	code, err = waitJob(ctx, api, res.ID, spec)
	stopLive()
	if err != nil {
		return code, err
	}
	logs, err := api.ServiceLogs(ctx, res.ID, client.ServiceLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return code, fmt.Errorf("reading the output of job %s: %w", spec.Name, err)
	}
	defer logs.Close()
	if _, err := stdcopy.StdCopy(orDiscard(spec.Stdout), orDiscard(spec.Stderr), logs); err != nil {
		return code, fmt.Errorf("reading the output of job %s: %w", spec.Name, err)
	}
	return code, nil
}

// followJob copies the job's standard output to live while it runs, until the
// returned function is called (which waits for the copy to end). A log that cannot be
// followed leaves live without progress, nothing else.
func followJob(ctx context.Context, api API, serviceID string, live io.Writer) (stop func()) {
	if live == nil {
		return func() {}
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		logs, err := api.ServiceLogs(fctx, serviceID, client.ServiceLogsOptions{ShowStdout: true, Follow: true})
		if err != nil {
			return
		}
		go func() {
			// A followed log ends only with its service: closing it ends the copy.
			<-fctx.Done()
			logs.Close()
		}()
		_, _ = stdcopy.StdCopy(live, io.Discard, logs)
	}()
	return func() {
		cancel()
		<-done
	}
}

// waitJob polls the job's task until it has ended, and returns its exit code. A task
// the node rejected (an image it does not have, a volume it cannot mount) is an error.
func waitJob(ctx context.Context, api API, serviceID string, spec JobSpec) (int, error) {
	poll := spec.Poll
	if poll == 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		tasks, err := api.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("service", serviceID)})
		if err != nil {
			return -1, fmt.Errorf("listing the task of job %s: %w", spec.Name, err)
		}
		for _, task := range tasks.Items {
			st := task.Status
			switch st.State {
			case swarm.TaskStateComplete:
				return 0, nil
			case swarm.TaskStateFailed:
				if st.ContainerStatus != nil && st.ContainerStatus.ExitCode != 0 {
					return st.ContainerStatus.ExitCode, nil
				}
				return -1, fmt.Errorf("job %s failed on node %s: %s", spec.Name, spec.NodeID, st.Err)
			case swarm.TaskStateRejected, swarm.TaskStateOrphaned, swarm.TaskStateRemove, swarm.TaskStateShutdown:
				return -1, fmt.Errorf("job %s did not run on node %s: %s %s", spec.Name, spec.NodeID, st.State, st.Err)
			}
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-t.C:
		}
	}
}

// SwarmObject is a service or secret of a swarm, found by its labels.
type SwarmObject struct {
	ID, Name string
	Labels   map[string]string
	// Remove removes it.
	Remove func(ctx context.Context) error
}

// ServicesWithLabels lists the swarm's services that carry every label (key=value, or
// key alone).
func ServicesWithLabels(ctx context.Context, api API, labels ...string) ([]SwarmObject, error) {
	f := labelFilter(labels)
	res, err := api.ServiceList(ctx, client.ServiceListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the swarm's services labelled %v: %w", labels, err)
	}
	var out []SwarmObject
	for _, s := range res.Items {
		out = append(out, SwarmObject{ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels, Remove: func(ctx context.Context) error {
			if _, err := api.ServiceRemove(ctx, s.ID, client.ServiceRemoveOptions{}); err != nil {
				return fmt.Errorf("removing service %s: %w", s.Spec.Name, err)
			}
			return nil
		}})
	}
	return out, nil
}

// SecretsWithLabels lists the swarm's secrets that carry every label.
func SecretsWithLabels(ctx context.Context, api API, labels ...string) ([]SwarmObject, error) {
	f := labelFilter(labels)
	res, err := api.SecretList(ctx, client.SecretListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the swarm's secrets labelled %v: %w", labels, err)
	}
	var out []SwarmObject
	for _, s := range res.Items {
		out = append(out, SwarmObject{ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels, Remove: func(ctx context.Context) error {
			if _, err := api.SecretRemove(ctx, s.ID, client.SecretRemoveOptions{}); err != nil {
				return fmt.Errorf("removing secret %s: %w", s.Spec.Name, err)
			}
			return nil
		}})
	}
	return out, nil
}
