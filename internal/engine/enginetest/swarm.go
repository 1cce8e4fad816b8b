package enginetest

import (
	"context"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// Swarm makes the engine a node of a swarm (Engine.Swarm): Info says so, and a manager
// answers ServiceList, TaskList and NodeList from it. A test builds it from the
// constructors below, or from moby's own types.
type Swarm struct {
	// NodeID is the engine's own node; Manager is true for a manager.
	NodeID  string
	Manager bool
	// Nodes, Services and Tasks are the swarm's, as a manager lists them.
	Nodes    []swarm.Node
	Services []swarm.Service
	Tasks    []swarm.Task
	// Job is what the jobs created (ServiceCreate, jobs.go) do; they exit 0 when nil.
	Job JobProgram
	// Jobs are the jobs created, removed ones too.
	Jobs []*Job

	secrets   map[string]swarm.Secret
	secretSeq int
}

// SwarmNode is a node of the swarm.
func SwarmNode(id, hostname string) swarm.Node {
	return swarm.Node{ID: id, Description: swarm.NodeDescription{Hostname: hostname}}
}

// Replicated is the mode of a replicated service with n replicas.
func Replicated(n uint64) swarm.ServiceMode {
	return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
}

// Global is the mode of a global service: one task on every node.
func Global() swarm.ServiceMode { return swarm.ServiceMode{Global: &swarm.GlobalService{}} }

// StackService is service name of stack namespace as `docker stack deploy` makes it
// (named <namespace>_<name>, labelled with the namespace, ID "svc-<namespace>_<name>"),
// mounting the given volumes (VolumeMount).
func StackService(namespace, name string, mode swarm.ServiceMode, mounts ...mount.Mount) swarm.Service {
	full := namespace + "_" + name
	labels := map[string]string{engine.LabelStackNamespace: namespace}
	return swarm.Service{ID: "svc-" + full, Spec: swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: full, Labels: labels},
		Mode:        mode,
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{
			Image: "example/" + name, Labels: labels, Mounts: mounts,
		}},
	}}
}

// VolumeMount mounts named volume source at target, with the local driver.
func VolumeMount(source, target string) mount.Mount {
	return mount.Mount{Type: mount.TypeVolume, Source: source, Target: target}
}

// RunningTask is a task of service that runs on node, in container (slot 0: a global
// service's task). Its ID is "task-<service name>-<slot>-<node>".
func RunningTask(service swarm.Service, slot int, node, container string) swarm.Task {
	return swarm.Task{
		ID:        fmt.Sprintf("task-%s-%d-%s", service.Spec.Name, slot, node),
		ServiceID: service.ID, Slot: slot, NodeID: node, DesiredState: swarm.TaskStateRunning,
		Status: swarm.TaskStatus{State: swarm.TaskStateRunning, ContainerStatus: &swarm.ContainerStatus{ContainerID: container}},
	}
}

// manager returns the swarm a manager answers from, or the engine's error for a node
// that is not a manager. The caller holds e.mu.
func (e *Engine) manager(call string) (*Swarm, error) {
	if err := e.fail[call]; err != nil {
		return nil, err
	}
	switch {
	case e.Swarm == nil:
		//lint:ignore ST1005 the fake answers with the daemon's own words
		return nil, fmt.Errorf(`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.: %w`, cerrdefs.ErrUnavailable)
	case !e.Swarm.Manager:
		//lint:ignore ST1005 the fake answers with the daemon's own words
		return nil, fmt.Errorf("This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.: %w", cerrdefs.ErrUnavailable)
	}
	return e.Swarm, nil
}

// ServiceList lists the swarm's services that match the label and name filters.
func (e *Engine) ServiceList(_ context.Context, o client.ServiceListOptions) (client.ServiceListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw, err := e.manager("service-list")
	if err != nil {
		return client.ServiceListResult{}, err
	}
	var out []swarm.Service
	for _, s := range sw.Services {
		ok, err := matches(o.Filters, s.Spec.Name, s.Spec.Labels)
		if err != nil {
			return client.ServiceListResult{}, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return client.ServiceListResult{Items: out}, nil
}

// TaskList lists the swarm's tasks that match the desired-state, service (ID or name)
// and node (ID) filters. Other filters are refused.
func (e *Engine) TaskList(_ context.Context, o client.TaskListOptions) (client.TaskListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw, err := e.manager("task-list")
	if err != nil {
		return client.TaskListResult{}, err
	}
	names := map[string]string{}
	for _, s := range sw.Services {
		names[s.ID] = s.Spec.Name
	}
	var out []swarm.Task
	for _, t := range sw.Tasks {
		ok := true
		for term, values := range o.Filters {
			var got []string
			switch term {
			case "desired-state":
				got = []string{string(t.DesiredState)}
			case "service":
				got = []string{t.ServiceID, names[t.ServiceID]}
			case "node":
				got = []string{t.NodeID}
			default:
				return client.TaskListResult{}, fmt.Errorf("enginetest: task filter %s is not supported", term)
			}
			// The values of one filter are alternatives, as the engine takes them.
			hit := false
			for v := range values {
				hit = hit || slices.Contains(got, v)
			}
			ok = ok && hit
		}
		if ok {
			out = append(out, t)
		}
	}
	return client.TaskListResult{Items: out}, nil
}

// NodeList lists the swarm's nodes; filters are refused.
func (e *Engine) NodeList(_ context.Context, o client.NodeListOptions) (client.NodeListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw, err := e.manager("node-list")
	if err != nil {
		return client.NodeListResult{}, err
	}
	if len(o.Filters) > 0 {
		return client.NodeListResult{}, fmt.Errorf("enginetest: node filters are not supported")
	}
	return client.NodeListResult{Items: slices.Clone(sw.Nodes)}, nil
}
