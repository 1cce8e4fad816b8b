package backup

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/restic"
	"github.com/docker-backup/docker-backup/snapshot"
)

// confirmDumps makes the run's completed dumps visible: each was committed with the
// unconfirmed tag, which one `restic tag` removes from all of them at the end of the
// run (it takes restic's exclusive lock, so it waits until no helper of the run works).
// A dump that cannot be confirmed fails its service; its snapshot stays invisible and
// the next run forgets it.
func confirmDumps(ctx context.Context, env Env, results []Result) {
	var ids []string
	for _, r := range results {
		if awaitsConfirmation(r) {
			ids = append(ids, r.unconfirmed)
		}
	}
	if len(ids) == 0 {
		return
	}
	changed, err := restic.Tag(ctx, env.Run.Runner, ids, nil, []string{snapshot.Unconfirmed})
	for i := range results {
		r := &results[i]
		if !awaitsConfirmation(*r) {
			continue
		}
		if newID, ok := changed[r.unconfirmed]; ok {
			r.Summary.SnapshotID = newID
			continue
		}
		if err == nil {
			err = fmt.Errorf("restic did not report the confirmed snapshot")
		}
		r.Status = StatusFailed
		r.Err = fmt.Errorf("the dump was stored as snapshot %s but could not be confirmed, so it will never be used (the next run forgets it): %w",
			restic.ShortID(r.unconfirmed), err)
	}
}
