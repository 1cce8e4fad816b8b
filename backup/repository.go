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
func OpenRepository(ctx context.Context, api engine.API, runner restic.Runner, plan *composeext.Plan) error {
	exists, err := restic.Exists(ctx, runner)
	if err != nil {
		return fmt.Errorf("repository %s: %w", plan.Repository.Display, err)
	}
	if !exists {
		if !plan.Repository.Local {
			return &ErrNoRepository{Display: plan.Repository.Display}
		}
		if err := restic.Init(ctx, runner); err != nil {
			return fmt.Errorf("repository %s: %w", plan.Repository.Display, err)
		}
		return nil
	}
	return removeStaleLocks(ctx, api, runner, restic.Repo{URL: plan.Repository.URL}.ID())
}

// removeStaleLocks removes every lock when no helper of this repository is running on
// this engine.
// restic's own staleness test compares hostname and PID, which means nothing across
// containers (every helper is PID 1 of its own), so it would wait 30 minutes instead.
func removeStaleLocks(ctx context.Context, api engine.API, runner restic.Runner, repoID string) error {
	res, err := api.ContainerList(ctx, client.ContainerListOptions{
		Filters: client.Filters{}.Add("label", engine.LabelRepository+"="+repoID).Add("status", "running"),
	})
	if err != nil {
		return fmt.Errorf("listing running helpers: %w", err)
	}
	if len(res.Items) > 0 {
		return nil
	}
	return restic.Unlock(ctx, runner, true)
}
