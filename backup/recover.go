package backup

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/engine"
)

// Recover cleans up after a run that was killed before it could: it starts again the
// service containers that a dead run stopped (recorded on its helper), and removes
// helpers that are no longer running. Running helpers belong to a live run and are left.
func Recover(ctx context.Context, api engine.API, project string) error {
	res, err := api.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: client.Filters{}.Add("label", engine.LabelHelper+"=true").Add("label", engine.LabelHelperProject+"="+project),
	})
	if err != nil {
		return fmt.Errorf("looking for helpers of an earlier run: %w", err)
	}
	for _, h := range res.Items {
		if h.State == container.StateRunning {
			continue
		}
		if ids := h.Labels[engine.LabelStopped]; ids != "" {
			if err := engine.StartContainers(ctx, api, strings.Split(ids, ",")); err != nil {
				return fmt.Errorf("starting containers stopped by an interrupted run: %w", err)
			}
		}
		if _, err := api.ContainerRemove(ctx, h.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("removing helper of an interrupted run: %w", err)
		}
	}
	return nil
}
