package app

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/run"
)

// warnLeftovers says in one line what dead runs of the project left (a service left
// stopped, a drill's throwaway copy…) and which commands finish it. The commands that
// change nothing (snapshots, status, check) call it: recovering needs the project's
// anchor, which they never take, since they may run while a backup runs.
func warnLeftovers(ctx context.Context, api engine.API, project string, warn func(string)) {
	left, err := run.FindLeftovers(ctx, api, project)
	switch {
	case err != nil && ctx.Err() == nil:
		warn(fmt.Sprintf("could not look for what interrupted runs left: %v", err))
	case err == nil && !left.Empty():
		warn(left.Message())
	}
}

// forgetWithoutPolicy is forget on services with no retention policy: nothing to
// forget, a configuration error (exit code 2) as ever. But forget is one of the commands
// that finish what a dead run left (a restore killed with its service stopped), so when
// something is left it first begins a run for that recovery alone; the repository is
// not opened (run.Options.Listed), so an unconfirmed dump waits for the next up or a
// forget with a policy.
func (a *App) forgetWithoutPolicy(ctx context.Context, opts ForgetOptions, plan *composeext.Plan, sink Sink) error {
	noPolicy := usageErrorf("no retention policy: set x-backup.retention in the compose file (keep_last, keep_daily, …)")
	api, err := a.Docker()
	if err != nil {
		return noPolicy
	}
	left, err := run.FindLeftovers(ctx, api, plan.Project)
	if err != nil || left.Empty() {
		return noPolicy
	}
	warn := WarnFunc(sink)
	s, err := a.connect(ctx, plan)
	if err == nil {
		var r *run.Run
		if r, err = s.begin(ctx, plan, "forget", opts.Run, beginOptions{listed: true}, warn); err == nil {
			r.End(ctx)
		}
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		warn(left.Message())
		warn(fmt.Sprintf("could not finish it: %v", err))
	}
	return noPolicy
}
