package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// resumeSwaps finishes the swaps that dead runs' swap helpers did not (the helper was
// killed, or the engine stopped, mid-swap), before any of their volumes is removed and
// before their services are started again, so no service starts on volumes that are not
// all old or all new. A swap is found by its records volume (helper.LabelSwap), and what it
// mounts comes from that volume's labels, checked against the labels of the volumes
// they name; no file in any volume is read to decide it. It returns the volumes that
// must stay (a swap that could not be finished) and their services (not to be started
// again).
func (r *Run) resumeSwaps(ctx context.Context, vs []engine.Volume) (keep, services map[string]bool) {
	keep, services = map[string]bool{}, map[string]bool{}
	byName := map[string]engine.Volume{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	live := func(name string) bool {
		ok, err := engine.VolumeExists(ctx, r.API, name)
		return err == nil && ok
	}
	for _, v := range vs {
		if v.Labels[helper.LabelRun] == r.ID || v.Labels[helper.LabelSwap] == "" || v.Labels[helper.LabelKept] != "" {
			continue
		}
		dead, service := v.Labels[helper.LabelRun], v.Labels[helper.LabelService]
		s, err := checkSwap(v, byName, live)
		if err != nil {
			r.warn(fmt.Sprintf("the swap of service %s that interrupted run %s began is not resumed: %v; its volumes are kept and the service is not started", service, dead, err))
			keepSwap(keep, s, v.Name)
			services[service] = true
			continue
		}
		out, err := r.Runner.RunSwap(context.WithoutCancel(ctx), s, true)
		switch {
		case err == nil && out.AllNew():
			r.warn(fmt.Sprintf("finished the swap of service %s that interrupted run %s began: %s hold the restored content, the previous content is in %s",
				service, dead, strings.Join(s.Lives(), ", "), strings.Join(s.Rollbacks(), ", ")))
		case err == nil && out.AllOld():
			r.warn(fmt.Sprintf("the swap of service %s that interrupted run %s began was put back or had not begun: %s hold their previous content",
				service, dead, strings.Join(s.Lives(), ", ")))
			_ = engine.RemoveVolumes(context.WithoutCancel(ctx), r.API, s.Rollbacks())
		default:
			why := fmt.Sprintf("exit code %d%s", out.Code, out.Stderr)
			if err != nil {
				why = err.Error()
			}
			r.warn(fmt.Sprintf("could not finish the swap of service %s that interrupted run %s began (%s): %s; its staging, rollback and records volumes are kept and the service is not started",
				service, dead, why, s.Describe(out.States)))
			keepSwap(keep, s, v.Name)
			services[service] = true
		}
	}
	return keep, services
}

// keepSwap marks a swap's volumes to stay.
func keepSwap(keep map[string]bool, s helper.Swap, records string) {
	keep[records] = true
	for _, t := range s.Targets {
		keep[t.Staging] = true
	}
}
