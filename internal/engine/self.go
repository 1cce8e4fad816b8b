package engine

import (
	"context"
	"fmt"
	"regexp"

	"github.com/moby/moby/client"
)

// containerDirRE finds a container's folder of the engine in a mountinfo line: the
// engine bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from
// <data-root>/containers/<ID>/, whatever the network mode or cgroup version.
var containerDirRE = regexp.MustCompile(`/containers/([0-9a-f]{64})/(hostname|hosts|resolv\.conf)\s`)

// OwnContainerID returns the ID of the container whose /proc/self/mountinfo this is, or
// "" outside a container.
func OwnContainerID(mountinfo string) string {
	if m := containerDirRE.FindStringSubmatch(mountinfo); m != nil {
		return m[1]
	}
	return ""
}

// ContainerLabels returns the labels of the container with that ID or name.
func ContainerLabels(ctx context.Context, api API, id string) (map[string]string, error) {
	res, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspecting container %s: %w", ShortID(id), err)
	}
	if res.Container.Config == nil {
		return map[string]string{}, nil
	}
	return res.Container.Config.Labels, nil
}
