package engine

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// ServiceEnv returns the environment ("KEY=value") of a compose service's containers,
// running or not, as the engine holds it: what a command exec'd in them sees, so that
// its secrets can be masked in what that command prints.
func ServiceEnv(ctx context.Context, api API, project, service string) ([]string, error) {
	cs, err := ServiceContainers(ctx, api, project, service)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, c := range cs {
		res, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return nil, fmt.Errorf("inspecting container %s: %w", c.Name, err)
		}
		if res.Container.Config != nil {
			env = append(env, res.Container.Config.Env...)
		}
	}
	return env, nil
}
