package run

import (
	"context"
	"slices"
	"strings"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// FindStackLeftovers is FindLeftovers for a swarm stack, asked of a manager: besides
// what FindLeftovers finds on that engine, the jobs (swarm services) and their secrets
// that dead runs left on the swarm, which run.Begin with Options.Swarm removes
// (removeDeadJobs). The live run's are its work, and kept ones the user's. The
// services a dead run scaled to 0 (stop: true) FindLeftovers finds already
// (Leftovers.Scaled): Begin's recovery scales them back, so the scheduler's start-up
// recovery begins a run for them too.
func FindStackLeftovers(ctx context.Context, api engine.API, project string) (Leftovers, error) {
	left, err := FindLeftovers(ctx, api, project)
	if err != nil {
		return left, err
	}
	live, commands, err := liveRuns(ctx, api, project)
	if err != nil {
		return left, err
	}
	label := helper.LabelProject + "=" + project
	jobs, err := engine.ServicesWithLabels(ctx, api, label, helper.LabelRun)
	if err != nil {
		return left, err
	}
	secrets, err := engine.SecretsWithLabels(ctx, api, label, helper.LabelRun)
	if err != nil {
		return left, err
	}
	runs := map[string]bool{}
	for i, o := range append(jobs, secrets...) {
		id := o.Labels[helper.LabelRun]
		if live[id] || o.Labels[helper.LabelKept] != "" {
			continue
		}
		if i < len(jobs) {
			left.Jobs++
		}
		if !slices.ContainsFunc(left.Runs, func(r string) bool { return strings.HasSuffix(r, "run "+id) }) {
			runs[id] = true
		}
	}
	if len(runs) > 0 {
		left.Runs = append(left.Runs, describeRuns(runs, commands)...)
		slices.Sort(left.Runs)
	}
	return left, nil
}
