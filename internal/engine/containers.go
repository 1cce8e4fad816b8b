package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Container is a service container as docker-backup needs it.
type Container struct {
	ID      string
	Name    string
	Running bool
	Number  string
}

// ServiceContainers lists a compose service's containers (not one-off runs), running or not,
// ordered by container number.
func ServiceContainers(ctx context.Context, api API, project, service string) ([]Container, error) {
	res, err := api.ContainerList(ctx, client.ContainerListOptions{
		All: true,
		Filters: client.Filters{}.
			Add("label", LabelProject+"="+project).
			Add("label", LabelService+"="+service),
	})
	if err != nil {
		return nil, fmt.Errorf("listing containers of service %q: %w", service, err)
	}
	var out []Container
	for _, c := range res.Items {
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		name := ShortID(c.ID)
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Container{ID: c.ID, Name: name, Running: c.State == container.StateRunning, Number: c.Labels[LabelContainer]})
	}
	slices.SortFunc(out, func(a, b Container) int { return strings.Compare(a.Number, b.Number) })
	return out, nil
}

// RunningContainer returns the first running container of a service, or an error that
// says the service is not running.
func RunningContainer(ctx context.Context, api API, project, service string) (Container, error) {
	cs, err := ServiceContainers(ctx, api, project, service)
	if err != nil {
		return Container{}, err
	}
	for _, c := range cs {
		if c.Running {
			return c, nil
		}
	}
	return Container{}, fmt.Errorf("service %q has no running container (start it with docker compose up -d %s)", service, service)
}

// ErrContainerGone is a container that no longer exists (removed, or recreated by
// compose under a new ID).
var ErrContainerGone = errors.New("the container no longer exists")

// StopContainer stops a container the way `docker compose stop` does: with the
// container's own stop signal and grace period, which compose sets from the service's
// stop_signal and stop_grace_period. The stop is not cancelled with ctx: the engine
// would finish it anyway, and the caller must know that it happened.
func StopContainer(ctx context.Context, api API, c Container) error {
	if _, err := api.ContainerStop(context.WithoutCancel(ctx), c.ID, client.ContainerStopOptions{}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stopping container %s: %w", c.Name, ErrContainerGone)
		}
		return fmt.Errorf("stopping container %s: %w", c.Name, err)
	}
	return nil
}

// StartContainer starts a container; ErrContainerGone when it no longer exists.
func StartContainer(ctx context.Context, api API, id string) error {
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("starting container %s again: %w", ShortID(id), ErrContainerGone)
		}
		return fmt.Errorf("starting container %s again: %w", ShortID(id), err)
	}
	return nil
}

// ShortID is the first 12 characters of a Docker ID, as docker shows them.
func ShortID(id string) string { return id[:min(12, len(id))] }

// Owned is a container of ours (a helper or a run's anchor), found by its labels.
type Owned struct {
	ID      string
	Name    string
	Labels  map[string]string
	Running bool
	// Created is true for a container created but not started yet.
	Created bool
}

// ContainersWithLabels lists the containers, running or not, that carry every given
// label ("key" or "key=value").
func ContainersWithLabels(ctx context.Context, api API, labels ...string) ([]Owned, error) {
	f := labelFilter(labels)
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := make([]Owned, 0, len(res.Items))
	for _, c := range res.Items {
		name := ShortID(c.ID)
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Owned{ID: c.ID, Name: name, Labels: c.Labels,
			Running: c.State == container.StateRunning, Created: c.State == container.StateCreated})
	}
	return out, nil
}

// RemoveContainer removes a container, running or not; one already gone is not an error,
// nor one whose removal somebody else began (a run that ends releases its anchor while
// the next run removes it as dead): that removal is waited for.
func RemoveContainer(ctx context.Context, api API, id string) error {
	_, err := api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
	switch {
	case err == nil || cerrdefs.IsNotFound(err):
		return nil
	case cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress"):
		return waitRemoved(ctx, api, id)
	}
	return fmt.Errorf("removing container %s: %w", ShortID(id), err)
}

// removalWait bounds the wait for a removal begun by somebody else.
const removalWait = 30 * time.Second

// waitRemoved waits until a container no longer exists.
func waitRemoved(ctx context.Context, api API, id string) error {
	ctx, cancel := context.WithTimeout(ctx, removalWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("removing container %s: its removal, begun elsewhere, has not ended: %w", ShortID(id), ctx.Err())
		case <-tick.C:
		}
	}
}

// WaitExit waits until a container has exited.
func WaitExit(ctx context.Context, api API, id string) error {
	w := api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
		return nil
	case err := <-w.Error:
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("waiting for container %s: %w", ShortID(id), err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Interrupt stops a running helper: SIGINT first (restic then removes its lock), SIGKILL
// after a grace period.
func Interrupt(ctx context.Context, api API, id string) {
	waited := api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	interrupt(ctx, api, id, waited)
}

// defaultStopTimeout is the engine's grace period when a container sets none.
const defaultStopTimeout = 10 * time.Second

// SettleStop waits for a stop that may be under way to end, up to the container's own
// grace period (and a little more). It reports whether the container still runs then:
// a stop is no longer under way, or none was. A container that no longer exists is
// ErrContainerGone.
func SettleStop(ctx context.Context, api API, id string) (running bool, err error) {
	res, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return false, fmt.Errorf("container %s: %w", ShortID(id), ErrContainerGone)
	}
	if err != nil {
		return false, fmt.Errorf("inspecting container %s: %w", ShortID(id), err)
	}
	if res.Container.State == nil || !res.Container.State.Running {
		return false, nil
	}
	grace := defaultStopTimeout
	if cfg := res.Container.Config; cfg != nil && cfg.StopTimeout != nil {
		grace = time.Duration(*cfg.StopTimeout) * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, grace+5*time.Second)
	defer cancel()
	if err := WaitExit(wctx, api, id); err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			return true, nil
		}
		return false, err
	}
	return false, nil
}
