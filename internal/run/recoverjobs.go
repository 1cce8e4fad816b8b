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
