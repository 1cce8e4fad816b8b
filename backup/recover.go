package backup

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// Recover cleans up after a run that was killed before it could: it starts again the
// service containers that a dead run stopped (recorded on its helper), and removes
// helpers that are no longer running. Running helpers belong to a live run and are left,
// and so are dump helpers: forgetOrphanDumps needs their logs.
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
		if h.Labels[engine.LabelKind] == dumpKind {
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

// forgetOrphanDumps forgets the snapshots of dump helpers whose run was killed. When the
// plugin dies mid-dump, the engine closes the helper's input and restic commits what it
// read so far; a finished helper that is still there was never confirmed by its run, so
// its snapshot cannot be trusted. Each forgotten snapshot is returned for a warning.
func forgetOrphanDumps(ctx context.Context, api engine.API, runner restic.Runner, project string) ([]string, error) {
	res, err := api.ContainerList(ctx, client.ContainerListOptions{
		All: true,
		Filters: client.Filters{}.Add("label", engine.LabelHelper+"=true").
			Add("label", engine.LabelHelperProject+"="+project).Add("label", engine.LabelKind+"="+dumpKind),
	})
	if err != nil {
		return nil, fmt.Errorf("looking for dump helpers of an earlier run: %w", err)
	}
	var forgotten []string
	for _, h := range res.Items {
		if h.State == container.StateRunning {
			continue
		}
		id, err := helperSnapshot(ctx, api, h.ID)
		if err != nil {
			return forgotten, err
		}
		if id != "" {
			if _, err := restic.Forget(ctx, runner, restic.ForgetOptions{IDs: []string{id}}); err != nil {
				return forgotten, fmt.Errorf("forgetting the unconfirmed dump snapshot %s: %w", id, err)
			}
			forgotten = append(forgotten, h.Labels[engine.LabelHelperService]+"@"+id[:min(8, len(id))])
		}
		if _, err := api.ContainerRemove(ctx, h.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			return forgotten, fmt.Errorf("removing helper of an interrupted run: %w", err)
		}
	}
	return forgotten, nil
}

// helperSnapshot reads the snapshot ID from a finished backup helper's log, if restic got
// as far as committing one.
func helperSnapshot(ctx context.Context, api engine.API, id string) (string, error) {
	logs, err := api.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true})
	if err != nil {
		return "", fmt.Errorf("reading the log of an interrupted dump helper: %w", err)
	}
	defer logs.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, io.Discard, logs)
		pw.CloseWithError(err)
	}()
	return restic.SnapshotFromJSON(pr)
}
