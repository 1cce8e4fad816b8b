package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// LabelStackNamespace is the label `docker stack deploy` puts on a stack's services (and
// their containers, networks and volumes): the stack's name.
const LabelStackNamespace = "com.docker.stack.namespace"

// Stack is a swarm stack as a manager sees it: its services, where their tasks run.
type Stack struct {
	Namespace string
	// Manager is the node of the engine asked: a manager of the swarm.
	Manager Node
	// Services are ordered by name.
	Services []StackService
}

// Service returns the stack's service of that name (within the stack), or nil.
func (s *Stack) Service(name string) *StackService {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}

// Node is a swarm node.
type Node struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
}

// ServiceMode is how swarm runs a service's tasks.
type ServiceMode string

// The service modes of swarm (jobs need API 1.41).
const (
	ModeReplicated    ServiceMode = "replicated"
	ModeGlobal        ServiceMode = "global"
	ModeReplicatedJob ServiceMode = "replicated-job"
	ModeGlobalJob     ServiceMode = "global-job"
)

// Global is true for the modes that run one task on every eligible node: swarm cannot
// scale those to 0 (moby 24901).
func (m ServiceMode) Global() bool { return m == ModeGlobal || m == ModeGlobalJob }

// StackService is one service of a stack.
type StackService struct {
	ID string
	// Name is the service's name in the stack (the compose file's), FullName swarm's
	// (<namespace>_<name>).
	Name, FullName string
	Mode           ServiceMode
	// Replicas is the count a replicated service asks for.
	Replicas uint64
	// Volumes are the named volumes its tasks mount. Each node has its own volume of a
	// name: a task gets the one of the node it runs on.
	Volumes []StackVolume
	// Tasks are those swarm wants running (desired state running), by slot then node;
	// their State says how far each got.
	Tasks []Task
	// Env is its tasks' environment (KEY=value), as its spec sets it: what a dump or
	// hook in its containers may print, for masking (never shown).
	Env []string
}

// StackVolume is a named volume a service's tasks mount.
type StackVolume struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// Driver is the volume driver, "local" when the spec names none.
	Driver string `json:"driver"`
}

// Local is true for a volume of the local driver: a folder of the node the task runs on.
func (v StackVolume) Local() bool { return v.Driver == "local" }

// Task is one task of a service.
type Task struct {
	ID string `json:"id"`
	// Slot is a replicated task's number (1…); 0 for a global one.
	Slot int `json:"slot,omitempty"`
	// Node is where it runs; an empty ID when swarm has not placed it yet.
	Node  Node   `json:"node"`
	State string `json:"state"`
	// ContainerID is its container on that node, once it has one.
	ContainerID string `json:"container_id,omitempty"`
}

// FindStack returns the stack of that namespace: the services labelled with it, their
// running tasks and the nodes those run on. nil when the engine is not a swarm manager
// (only a manager sees services) or has no service of the stack.
func FindStack(ctx context.Context, api API, namespace string) (*Stack, error) {
	info, err := Info(ctx, api)
	if err != nil {
		return nil, err
	}
	if !info.Swarm.Manager {
		return nil, nil
	}
	services, err := api.ServiceList(ctx, client.ServiceListOptions{
		Filters: client.Filters{}.Add("label", LabelStackNamespace+"="+namespace),
	})
	if err != nil {
		return nil, fmt.Errorf("listing the services of stack %s: %w", namespace, err)
	}
	if len(services.Items) == 0 {
		return nil, nil
	}
	nodes, err := api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the swarm's nodes: %w", err)
	}
	hostnames := map[string]string{}
	for _, n := range nodes.Items {
		hostnames[n.ID] = n.Description.Hostname
	}
	node := func(id string) Node { return Node{ID: id, Hostname: hostnames[id]} }
	// All running tasks, matched to the services here: a filter by service fails as a
	// whole when one of them was removed meanwhile.
	tasks, err := api.TaskList(ctx, client.TaskListOptions{
		Filters: client.Filters{}.Add("desired-state", string(swarm.TaskStateRunning)),
	})
	if err != nil {
		return nil, fmt.Errorf("listing the tasks of stack %s: %w", namespace, err)
	}
	st := &Stack{Namespace: namespace, Manager: node(info.Swarm.NodeID)}
	for _, s := range services.Items {
		svc := stackService(s, namespace)
		for _, t := range tasks.Items {
			if t.ServiceID == s.ID && t.DesiredState == swarm.TaskStateRunning {
				svc.Tasks = append(svc.Tasks, task(t, node(t.NodeID)))
			}
		}
		slices.SortFunc(svc.Tasks, func(a, b Task) int {
			return cmp.Or(cmp.Compare(a.Slot, b.Slot), strings.Compare(a.Node.Hostname, b.Node.Hostname), strings.Compare(a.ID, b.ID))
		})
		st.Services = append(st.Services, svc)
	}
	slices.SortFunc(st.Services, func(a, b StackService) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}

// stackService is a swarm service as a StackService, without its tasks.
func stackService(s swarm.Service, namespace string) StackService {
	out := StackService{ID: s.ID, FullName: s.Spec.Name, Name: strings.TrimPrefix(s.Spec.Name, namespace+"_")}
	switch m := s.Spec.Mode; {
	case m.Global != nil:
		out.Mode = ModeGlobal
	case m.ReplicatedJob != nil:
		out.Mode = ModeReplicatedJob
	case m.GlobalJob != nil:
		out.Mode = ModeGlobalJob
	default:
		out.Mode = ModeReplicated
		if m.Replicated != nil && m.Replicated.Replicas != nil {
			out.Replicas = *m.Replicated.Replicas
		}
	}
	if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
		out.Env = slices.Clone(cs.Env)
		for _, m := range cs.Mounts {
			if m.Type != mount.TypeVolume || m.Source == "" {
				continue // an anonymous volume is the task's own
			}
			v := StackVolume{Name: m.Source, Target: m.Target, Driver: "local"}
			if o := m.VolumeOptions; o != nil && o.DriverConfig != nil && o.DriverConfig.Name != "" {
				v.Driver = o.DriverConfig.Name
			}
			out.Volumes = append(out.Volumes, v)
		}
	}
	return out
}

// task is a swarm task as a Task.
func task(t swarm.Task, node Node) Task {
	out := Task{ID: t.ID, Slot: t.Slot, Node: node, State: string(t.Status.State)}
	if c := t.Status.ContainerStatus; c != nil {
		out.ContainerID = c.ContainerID
	}
	return out
}

// FindNode returns the swarm's node whose hostname or ID is name (the engine must be a
// manager).
func FindNode(ctx context.Context, api API, name string) (Node, error) {
	nodes, err := api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return Node{}, fmt.Errorf("listing the swarm's nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if n.ID == name || n.Description.Hostname == name {
			return Node{ID: n.ID, Hostname: n.Description.Hostname}, nil
		}
	}
	return Node{}, fmt.Errorf("the swarm has no node %s (docker node ls lists them)", name)
}
