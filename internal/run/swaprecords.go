package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// CreateSwapRecords creates the records volume of a swap, labelled with what it swaps.
func (r *Run) CreateSwapRecords(ctx context.Context, s helper.Swap) error {
	targets, err := json.Marshal(s.Targets)
	if err != nil {
		return fmt.Errorf("recording the swap: %w", err)
	}
	labels := r.TemporaryLabels(s.Service)
	labels[helper.LabelSwap] = s.Nonce
	labels[helper.LabelSwapTargets] = string(targets)
	return engine.CreateNewVolume(ctx, r.API, s.Records, labels)
}

// checkSwap refuses a dead run's swap whose records do not match the engine's own
// state: each staging and rollback volume must be the run's (project, run, and the
// staging or rollback label naming the live mount), each live volume must exist.
func checkSwap(records engine.Volume, byName map[string]engine.Volume, live func(string) bool) (helper.Swap, error) {
	s := helper.Swap{Service: records.Labels[helper.LabelService], Records: records.Name, Nonce: records.Labels[helper.LabelSwap]}
	if err := json.Unmarshal([]byte(records.Labels[helper.LabelSwapTargets]), &s.Targets); err != nil || len(s.Targets) == 0 {
		return s, errors.New("its records volume does not say what it swapped")
	}
	run, project := records.Labels[helper.LabelRun], records.Labels[helper.LabelProject]
	ours := func(name string) (engine.Volume, bool) {
		v, ok := byName[name]
		return v, ok && v.Labels[helper.LabelRun] == run && v.Labels[helper.LabelProject] == project && v.Labels[helper.LabelService] == s.Service
	}
	for _, t := range s.Targets {
		if v, ok := ours(t.Staging); !ok || v.Labels[helper.LabelStaging] == "" {
			return s, fmt.Errorf("staging volume %s is not that run's", t.Staging)
		}
		if v, ok := ours(t.Rollback); !ok || v.Labels[helper.LabelRollback] != t.Live {
			return s, fmt.Errorf("rollback volume %s is not that run's for %s", t.Rollback, t.Live)
		}
		switch {
		case t.Type == "volume" && !live(t.Live):
			return s, fmt.Errorf("live volume %s does not exist", t.Live)
		case t.Type != "volume" && (t.Type != "bind" || !strings.HasPrefix(t.Live, "/")):
			return s, fmt.Errorf("live mount %q is neither a volume nor a bind mount's host path", t.Live)
		}
	}
	return s, nil
}
