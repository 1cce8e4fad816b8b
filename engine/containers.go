package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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
		name := c.ID[:min(12, len(c.ID))]
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

// StopContainers stops the running containers among ids and returns those it stopped.
// On error, the ones already stopped are returned too so the caller can start them again.
func StopContainers(ctx context.Context, api API, cs []Container, timeout time.Duration) ([]string, error) {
	var stopped []string
	secs := int(timeout.Seconds())
	for _, c := range cs {
		if !c.Running {
			continue
		}
		if _, err := api.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil {
			return stopped, fmt.Errorf("stopping container %s: %w", c.Name, err)
		}
		stopped = append(stopped, c.ID)
	}
	return stopped, nil
}

// StartContainers starts every container in ids, trying them all, and returns the
// first error. It is used on cleanup paths, so it does not give up early.
func StartContainers(ctx context.Context, api API, ids []string) error {
	var first error
	for _, id := range ids {
		if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil && first == nil {
			first = fmt.Errorf("starting container %s again: %w", shortID(id), err)
		}
	}
	return first
}

func shortID(id string) string { return id[:min(12, len(id))] }

// Stopped are service containers stopped for a while. Restart starts them again once,
// however often it is called, so callers can both restart early (before post hooks)
// and defer it for every other path.
type Stopped struct {
	api API
	ids []string
}

// StopForWork stops the running containers among cs. On error, the returned Stopped
// holds those already stopped, so that they can be started again too.
func StopForWork(ctx context.Context, api API, cs []Container, timeout time.Duration) (*Stopped, error) {
	ids, err := StopContainers(ctx, api, cs, timeout)
	return &Stopped{api: api, ids: ids}, err
}

// IDs lists the stopped containers that have not been started again.
func (s *Stopped) IDs() []string { return s.ids }

// Restart starts the stopped containers again; later calls do nothing.
func (s *Stopped) Restart(ctx context.Context) error {
	ids := s.ids
	s.ids = nil
	return StartContainers(ctx, s.api, ids)
}
