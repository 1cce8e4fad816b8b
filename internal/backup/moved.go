package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/failure"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// ErrMovedEmpty is a stack service whose task now runs on another node than the one of
// its latest snapshot, where its volumes are new and empty: up stores no snapshot of
// that emptiness, the service fails (so alerts fire), and its retention is held.
var ErrMovedEmpty = errors.New("moved to another node, where its volumes are empty")

// history is the stack's snapshots, listed once per run (on the manager, by the run's
// runner) when the first volumes service asks: which node each service's latest
// snapshot was taken on.
type history struct {
	mu    sync.Mutex
	done  bool
	snaps []restic.Snapshot
	err   error
	// held are the services whose retention this run holds (movedDump).
	held map[string]bool
}

// hold keeps retention from service's snapshots for this run.
func (h *history) hold(service string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[string]bool{}
	}
	h.held[service] = true
}

// holds says whether retention is held for service this run.
func (h *history) holds(service string) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[service]
}

// list lists the stack's snapshots, or returns the first listing's result. A listing
// ended by its caller's context (a service's timeout) is not kept: the next caller,
// another service, lists again.
func (h *history) list(ctx context.Context, env Env) ([]restic.Snapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return h.snaps, h.err
	}
	snaps, err := restic.Snapshots(ctx, env.Run.Runner, snapshot.ProjectFilter(env.Run.Identity))
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	h.snaps, h.err, h.done = snaps, err, true
	return snaps, err
}

// checkMoved refuses to back up svc on place's node when its task moved there from the
// node of its latest confirmed snapshot, that snapshot holds files, and the volumes
// there hold none: a local volume does not follow a task, so the new node's is a new,
// empty one, not the service's data. Emptiness is what restic itself reads there, with
// a dry run (nothing stored, no data leaves the node); it costs one more read of the
// volumes, and only on the first run after a move. A volume that is not empty there
// (the data restored or moved by the user) is backed up as usual.
func checkMoved(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement) error {
	snaps, err := env.history.list(ctx, env)
	if err != nil {
		return fmt.Errorf("checking whether %s moved to another node: %w", svc.Name, err)
	}
	latest, ok := snapshot.LatestOf(snaps, svc.Name)
	if !ok || !snapshot.HeldFiles(latest) {
		return nil
	}
	from := snapshot.Parse(latest).Node
	if from == place.Node {
		return nil
	}
	o := ResticOptions(svc, env.Run.Identity.Host(), env.Run.ID)
	o.DryRun = true
	sum, err := restic.Backup(ctx, place.Runner, o)
	if err != nil && !errors.Is(err, restic.ErrIncomplete) {
		return fmt.Errorf("checking the volumes of %s on node %s: %w", svc.Name, place.Node, err)
	}
	if sum.TotalFilesProcessed > 0 {
		return nil
	}
	if from == "" {
		from = "outside the swarm"
	}
	vols := "volume " + volumeNames(svc) + " is"
	if len(svc.Volumes) > 1 {
		vols = "volumes " + volumeNames(svc) + " are"
	}
	return failure.Newf(ErrMovedEmpty, "service %s moved from %s to %s, where its %s new and empty: nothing stored, and its snapshots (the latest, %s, from %s) kept from retention; restore it onto %s (docker backup restore) or move the task back",
		svc.Name, from, place.Node, vols, restic.ShortID(latest.ID), from, place.Node)
}

// movedDump says, in one line, when the task of dump service svc runs on another node
// than the one of its latest confirmed snapshot and mounts local volumes there: its
// database there lives in volumes that did not follow it, so it may be a new, empty
// one. A dump cannot be told empty as files can (a new database dumps its schema), so
// the dump is stored, as what runs now, the service is warned (alerts fire) and its
// older snapshots are held from this run's retention. "" when it did not move.
func movedDump(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement) (string, error) {
	if len(place.LocalVolumes) == 0 {
		return "", nil
	}
	snaps, err := env.history.list(ctx, env)
	if err != nil {
		return "", fmt.Errorf("checking whether %s moved to another node: %w", svc.Name, err)
	}
	latest, ok := snapshot.LatestOf(snaps, svc.Name)
	if !ok {
		return "", nil
	}
	from := snapshot.Parse(latest).Node
	if from == place.Node {
		return "", nil
	}
	if from == "" {
		from = "outside the swarm"
	}
	return fmt.Sprintf("service %s moved from %s to %s, where its local %s did not follow it: the dump stored is of the database there now, which may be a new, empty one; its older snapshots (the latest, %s, from %s) kept from retention this run; if it is new, restore it onto %s (docker backup restore)",
		svc.Name, from, place.Node, plural(len(place.LocalVolumes), "volume", "volumes")+" "+strings.Join(place.LocalVolumes, ", "),
		restic.ShortID(latest.ID), from, place.Node), nil
}

// plural is one or many, by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// volumeNames are a service's volumes, for a message.
func volumeNames(svc composeext.ServicePlan) string {
	var names []string
	for _, m := range svc.Volumes {
		names = append(names, m.Source)
	}
	return strings.Join(names, ", ")
}
