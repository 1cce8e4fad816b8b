package run

import (
	"context"
	"slices"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// removeDeadJobs removes the jobs (swarm services, engine.RunJob) and secrets of the
// project's dead runs, on a swarm stack, and returns dead with those runs added: their
// restic locks carry the jobs' hostname, which the dead run's own.
func (r *Run) removeDeadJobs(ctx context.Context, dead []string) ([]string, error) {
	project := helper.LabelProject + "=" + r.Identity.Project
	jobs, err := engine.ServicesWithLabels(ctx, r.API, project, helper.LabelRun)
	if err != nil {
		return nil, err
	}
	secrets, err := engine.SecretsWithLabels(ctx, r.API, project, helper.LabelRun)
	if err != nil {
		return nil, err
	}
	for _, o := range append(jobs, secrets...) {
		id := o.Labels[helper.LabelRun]
		if id == r.ID || o.Labels[helper.LabelKept] != "" {
			continue
		}
		if err := o.Remove(ctx); err != nil {
			return nil, err
		}
		if !slices.Contains(dead, id) {
			dead = append(dead, id)
		}
	}
	return dead, nil
}

// recoverDeadOnSwarm removes the dead runs' jobs and secrets, then scales back the
// stack's services they scaled to 0: their copies no longer read the volumes. It
// returns dead with the runs of those jobs added. On a manager where the run is not
// known to be on a stack (r.manager), a swarm that cannot be listed is left alone.
func (r *Run) recoverDeadOnSwarm(ctx context.Context, dead []string) ([]string, error) {
	more, err := r.removeDeadJobs(ctx, dead)
	if err == nil {
		dead = more
		err = r.scaleBackDead(ctx)
	}
	if err != nil && r.swarm {
		return nil, err
	}
	return dead, nil
}
