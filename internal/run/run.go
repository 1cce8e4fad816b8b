// Package run owns the lifecycle of a docker-backup run: every command that changes
// something (up, restore, forget) begins one. A run has an ID recorded on everything
// it creates; it excludes other runs of its project through an anchor container that
// lives exactly as long as the run's process; it recovers what provably dead runs left
// (containers they stopped, their helpers, locks, and the unconfirmed dump snapshots
// that earlier versions left); it opens
// the repository once; and it records each container before stopping it, so that
// whoever comes next can start it again.
package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// Options say what a run is and what it needs.
type Options struct {
	API      engine.API
	Identity snapshot.Identity
	// Runner runs restic; Begin sets its RunID.
	Runner *helper.Runner
	// Command is what runs (up, restore, forget), shown to a run that has to wait.
	Command string
	// Client says who runs it (user@host, pid), shown likewise.
	Client string
	// AnchorImage is the agent image: the anchor (agent hold) reads its input until
	// the run ends.
	AnchorImage string
	// Wait is how long to wait for another run of the project; negative: no limit.
	Wait time.Duration
	// InitLocal creates a local repository that does not exist yet (up does; a remote
	// repository is only ever created by init).
	InitLocal bool
	// Listed is true when the caller has just listed the repository's snapshots (restore
	// and verify select theirs before the run): Begin then does not open the repository
	// again, and the unconfirmed snapshots of dead runs, which no reader uses, are left
	// for the next up or forget to remove. A restic process less per command.
	Listed bool
	// Overlap lets the opening go on while the caller begins work that neither stops a
	// service nor runs a hook (up's backups of such services: restic proves the password
	// itself there): Begin returns once the anchor is held and dead runs are recovered,
	// and Opened waits for the opening. It applies only when no dead run was found, whose
	// locks must be removed before any backup. A restic process off the run's critical
	// path.
	Overlap bool
	// RepoDisplay is the repository's URL with credentials masked, for messages.
	RepoDisplay string
	// Warn receives what the run wants the user to know (recovery, waiting).
	Warn func(string)
	// Host makes the anchor the host of the run's restic commands (see
	// helper.Runner.HostSpec), with Mounts mounted besides the repository: what the
	// run's backups will need.
	Host   bool
	Mounts []restic.Mount
	// Swarm is true for a run on a swarm stack: its helpers may be jobs (swarm
	// services, with secrets) on other nodes, and recovery removes dead runs' too, and
	// scales back the services they scaled to 0. On a swarm manager Begin does that
	// anyway: every command that recovers dead runs (forget, the scheduler's start)
	// finishes what a stack's dead run left.
	Swarm bool
}

// Run is a run in progress.
type Run struct {
	ID       string
	Identity snapshot.Identity
	API      engine.API
	Runner   *helper.Runner
	anchor   *engine.Held
	warn     func(string)
	// deadAnchors are the runs whose exited anchors this run removed.
	deadAnchors []string
	// unconfirmedLeft is true when unconfirmed snapshots of dead runs could not be
	// forgotten: retention must not run, as it would count them.
	unconfirmedLeft bool
	// restarted are the containers recovery started again (see Restarted).
	restarted []Restart
	// opening, when not nil, is closed once the opening that Options.Overlap let go on
	// has ended, with openErr, unconfirmed and created set; settled is true once its
	// unconfirmed snapshots were dealt with (Settle).
	opening     chan struct{}
	openErr     error
	unconfirmed []restic.Snapshot
	created     bool
	settled     bool
	// swarm: recovery removes dead runs' jobs and secrets too, and scales back what
	// they scaled (Options.Swarm); manager: so does it, on a swarm manager, for a run
	// not known to be on a stack, where a swarm that cannot be listed is no error.
	swarm, manager bool
}

// ErrNoRepository is a repository that does not exist where only `init` may create it.
type ErrNoRepository struct {
	Display string
	// Folder is true for a local repository, whose folder may be on a disk not mounted.
	Folder bool
}

func (e *ErrNoRepository) Error() string {
	hint := ""
	if e.Folder {
		hint = " (is its disk mounted?)"
	}
	return fmt.Sprintf("repository %s does not exist%s: create it with 'docker backup init'", e.Display, hint)
}

// Unwrap makes errors.Is(err, restic.ErrRepoNotFound) true.
func (e *ErrNoRepository) Unwrap() error { return restic.ErrRepoNotFound }

// Begin starts a run: it takes the project's anchor (waiting for a live run as long as
// o.Wait allows), recovers what dead runs left, and opens the repository. End must be
// called once Begin has succeeded.
func Begin(ctx context.Context, o Options) (*Run, error) {
	warn := o.Warn
	if warn == nil {
		warn = func(string) {}
	}
	r := &Run{ID: NewID(), Identity: o.Identity, API: o.API, Runner: o.Runner, warn: warn, swarm: o.Swarm}
	r.manager = !o.Swarm && manager(ctx, o.API)
	r.Runner.RunID = r.ID
	anchor, hostMounts, err := acquire(ctx, o, r.ID, warn, &r.deadAnchors)
	if err != nil {
		return nil, err
	}
	r.anchor = anchor
	r.Runner.DropHost()
	if hostMounts != nil {
		r.Runner.UseHost(anchor.ID, hostMounts)
	}
	if err := r.begin(ctx, o); err != nil {
		r.End(ctx)
		return nil, err
	}
	return r, nil
}

func (r *Run) begin(ctx context.Context, o Options) error {
	dead, err := r.recoverDead(ctx)
	if err != nil {
		return err
	}
	for _, id := range r.deadAnchors {
		if !slices.Contains(dead, id) {
			dead = append(dead, id)
		}
	}
	if o.Overlap && !o.Listed && len(dead) == 0 {
		r.opening = make(chan struct{})
		go func() {
			defer close(r.opening)
			r.unconfirmed, r.openErr = r.open(ctx, o)
		}()
		return nil
	}
	var unconfirmed []restic.Snapshot
	if !o.Listed {
		if unconfirmed, err = r.open(ctx, o); err != nil {
			return err
		}
	}
	for _, id := range dead {
		// A dead run's helpers may have been killed before restic removed its lock.
		if err := restic.Unlock(ctx, r.Runner.ForDeadRun(id)); err != nil {
			r.warn(fmt.Sprintf("could not remove the locks of interrupted run %s: %v", id, err))
		}
	}
	r.forgetUnconfirmed(ctx, unconfirmed)
	return nil
}

// open opens the repository (creating a local one when allowed) and returns the
// unconfirmed snapshots of the identity: one helper does both.
func (r *Run) open(ctx context.Context, o Options) ([]restic.Snapshot, error) {
	snaps, err := restic.Snapshots(ctx, r.Runner, snapshot.UnconfirmedFilter(r.Identity))
	if err == nil {
		return snaps, nil
	}
	if !errors.Is(err, restic.ErrRepoNotFound) {
		return nil, fmt.Errorf("repository %s: %w", o.RepoDisplay, err)
	}
	if !o.InitLocal || !r.Runner.Repo.Local {
		return nil, &ErrNoRepository{Display: o.RepoDisplay, Folder: r.Runner.Repo.Local}
	}
	if err := restic.Init(ctx, r.Runner); err != nil {
		return nil, fmt.Errorf("repository %s: %w", o.RepoDisplay, err)
	}
	r.created = true
	return nil, nil
}

// Opened waits for the opening that Options.Overlap let go on and returns how it
// ended: nil at once when the opening was part of Begin.
func (r *Run) Opened(ctx context.Context) error {
	if r.opening == nil {
		return nil
	}
	select {
	case <-r.opening:
		return r.openErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Overlapped reports whether the opening goes on beside the caller's work (see
// Options.Overlap).
func (r *Run) Overlapped() bool { return r.opening != nil }

// Created reports whether the opening that Options.Overlap let go on created the
// repository (a default local one that did not exist): work that overlapped it found
// none, and is to be done again. False for an opening that was part of Begin.
func (r *Run) Created(ctx context.Context) bool {
	return r.opening != nil && r.Opened(ctx) == nil && r.created
}

// Settle forgets, once the overlapped opening has ended and the caller's backups are
// done, the unconfirmed snapshots it found (forget takes the exclusive lock, which
// the backups' locks would have refused). Retention calls it first; with the opening
// part of Begin, it does nothing.
func (r *Run) Settle(ctx context.Context) {
	if r.opening == nil || r.settled || r.Opened(ctx) != nil {
		return
	}
	r.settled = true
	r.forgetUnconfirmed(ctx, r.unconfirmed)
}

// forgetUnconfirmed forgets the snapshots that dead runs of earlier versions could not
// confirm (this version commits a dump whole or not at all, and never tags one so). The
// run holds the project's anchor, so none of them belongs to a live run. When the
// repository is locked they stay (invisible to every reader) for the next run.
func (r *Run) forgetUnconfirmed(ctx context.Context, snaps []restic.Snapshot) {
	var ids []string
	for _, s := range snaps {
		if snapshot.Parse(s).Run != r.ID {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	if _, err := restic.Forget(ctx, r.Runner, restic.ForgetOptions{IDs: ids}); err != nil {
		r.warn(fmt.Sprintf("could not forget %d unconfirmed snapshot(s) of interrupted runs (they are never listed or restored): %v", len(ids), err))
		r.unconfirmedLeft = true
		return
	}
	for _, s := range snaps {
		in := snapshot.Parse(s)
		r.warn(fmt.Sprintf("forgot snapshot %s@%s: its run was interrupted before it confirmed the dump", in.Service, s.ShortID))
	}
}

// UnconfirmedLeft reports whether unconfirmed snapshots of dead runs remain in the
// repository: restic forget would count them, so retention waits for the next run.
func (r *Run) UnconfirmedLeft() bool { return r.unconfirmedLeft }

// End releases the anchor: the project is free for the next run.
func (r *Run) End(ctx context.Context) {
	if r.opening != nil {
		// The opening runs in the anchor: it ends before the anchor goes.
		<-r.opening
	}
	r.Runner.DropHost()
	if r.anchor != nil {
		_ = r.anchor.Release(ctx)
		r.anchor = nil
	}
}

// TemporaryLabels are the labels of a volume the run removes at its end, or recovery
// after it.
func (r *Run) TemporaryLabels(service string) map[string]string {
	return map[string]string{helper.LabelProject: r.Identity.Project, helper.LabelRun: r.ID, helper.LabelService: service, helper.LabelTemporary: "true"}
}

// VolumeLabels are the labels of a volume the run creates and leaves for the user (a
// rollback volume).
func (r *Run) VolumeLabels(service string) map[string]string {
	return map[string]string{helper.LabelProject: r.Identity.Project, helper.LabelRun: r.ID, helper.LabelService: service}
}

// manager reports whether the engine is a manager of a swarm: one that may hold a
// stack's jobs and scaled services. An engine that cannot say is not.
func manager(ctx context.Context, api engine.API) bool {
	info, err := engine.Info(ctx, api)
	return err == nil && info.Swarm.Manager
}
