package backup

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// ErrNoRepository is a remote repository that does not exist yet: only `init` creates
// one, so that a typo in a URL never silently starts a new repository.
type ErrNoRepository struct{ Display string }

func (e *ErrNoRepository) Error() string {
	return fmt.Sprintf("repository %s does not exist: create it with 'docker backup init'", e.Display)
}

// Unwrap makes errors.Is(err, restic.ErrRepoNotFound) true.
func (e *ErrNoRepository) Unwrap() error { return restic.ErrRepoNotFound }

// OpenRepository opens the plan's repository once for the run: it creates a local one
// on first use, refuses a missing remote one, and removes locks left by helpers that are
// no longer running, so an interrupted run never blocks the next for restic's 30 minutes.
// restic decides that a lock is stale by hostname and PID, which means nothing across
// containers (every helper is PID 1 of its own), so it would wait 30 minutes instead.
// All of it takes one helper.
func OpenRepository(ctx context.Context, api engine.API, runner restic.Runner, plan *composeext.Plan) error {
	busy, err := helpersRunning(ctx, api, restic.Repo{URL: plan.Repository.URL}.ID())
	if err != nil {
		return err
	}
	exists, err := restic.Open(ctx, runner, !busy)
	if err != nil {
		return fmt.Errorf("repository %s: %w", plan.Repository.Display, err)
	}
	if exists {
		return nil
	}
	if !plan.Repository.Local {
		return &ErrNoRepository{Display: plan.Repository.Display}
	}
	if err := restic.Init(ctx, runner); err != nil {
		return fmt.Errorf("repository %s: %w", plan.Repository.Display, err)
	}
	return nil
}

// helpersRunning reports whether a helper of the repository runs on this engine.
func helpersRunning(ctx context.Context, api engine.API, repoID string) (bool, error) {
	res, err := api.ContainerList(ctx, client.ContainerListOptions{
		Filters: client.Filters{}.Add("label", engine.LabelRepository+"="+repoID).Add("status", "running"),
	})
	if err != nil {
		return false, fmt.Errorf("listing running helpers: %w", err)
	}
	return len(res.Items) > 0, nil
}
