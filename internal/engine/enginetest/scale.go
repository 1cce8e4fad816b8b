package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// ServiceInspect returns a service of the swarm with its version.
func (e *Engine) ServiceInspect(_ context.Context, id string, _ client.ServiceInspectOptions) (client.ServiceInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw, err := e.manager("service-inspect")
	if err != nil {
		return client.ServiceInspectResult{}, err
	}
	i := sw.service(id)
	if i < 0 {
		return client.ServiceInspectResult{}, fmt.Errorf("service %s not found: %w", id, cerrdefs.ErrNotFound)
	}
	// The engine answers with a copy: a caller's changes to it are not the service's.
	raw, err := json.Marshal(sw.Services[i])
	if err != nil {
		return client.ServiceInspectResult{}, err
	}
	var out swarm.Service
	if err := json.Unmarshal(raw, &out); err != nil {
		return client.ServiceInspectResult{}, err
	}
	return client.ServiceInspectResult{Service: out, Raw: raw}, nil
}

// ServiceUpdate replaces a service's spec if o.Version is its current version (else
// the engine's "update out of sequence"), and bumps the version. Scaled to 0, its
// tasks shut down; scaled up again, its shut down tasks run again.
func (e *Engine) ServiceUpdate(_ context.Context, id string, o client.ServiceUpdateOptions) (client.ServiceUpdateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "service-update")
	sw, err := e.manager("service-update")
	if err != nil {
		return client.ServiceUpdateResult{}, err
	}
	i := sw.service(id)
	if i < 0 {
		return client.ServiceUpdateResult{}, fmt.Errorf("service %s not found: %w", id, cerrdefs.ErrNotFound)
	}
	s := &sw.Services[i]
	if o.Version.Index != s.Version.Index {
		return client.ServiceUpdateResult{}, fmt.Errorf("rpc error: code = Unknown desc = update out of sequence")
	}
	s.Spec = o.Spec
	s.Version.Index++
	if r := o.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		sw.scaleTasks(s.ID, *r.Replicas)
	}
	return client.ServiceUpdateResult{}, nil
}

// service is the index of the service with ID or name id, or -1.
func (s *Swarm) service(id string) int {
	return slices.IndexFunc(s.Services, func(svc swarm.Service) bool { return svc.ID == id || svc.Spec.Name == id })
}

// scaleTasks shuts the service's tasks down at 0 replicas, and runs up to n of them
// again above.
func (s *Swarm) scaleTasks(serviceID string, n uint64) {
	running := uint64(0)
	for i := range s.Tasks {
		t := &s.Tasks[i]
		if t.ServiceID != serviceID {
			continue
		}
		if running < n {
			t.DesiredState, t.Status.State = swarm.TaskStateRunning, swarm.TaskStateRunning
			running++
			continue
		}
		t.DesiredState, t.Status.State = swarm.TaskStateShutdown, swarm.TaskStateShutdown
	}
}
