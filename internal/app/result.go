package app

import (
	"slices"

	"github.com/docker-backup/docker-backup/internal/report"
)

// masked is a service's result as it leaves app (events, returned results, reports):
// its error, warnings, hooks' errors and a drill's detail masked. r is not changed.
func masked(r report.Result, mask func(string) string) report.Result {
	r.Err = maskError(r.Err, mask)
	if r.Warnings != nil {
		warnings := make([]string, 0, len(r.Warnings))
		for _, w := range r.Warnings {
			warnings = append(warnings, mask(w))
		}
		r.Warnings = warnings
	}
	if r.Hooks != nil {
		r.Hooks = slices.Clone(r.Hooks)
		for i := range r.Hooks {
			r.Hooks[i].Err = maskError(r.Hooks[i].Err, mask)
		}
	}
	r.Detail = mask(r.Detail)
	return r
}

// maskedAll is masked applied to each result, in order.
func maskedAll(results []report.Result, mask func(string) string) []report.Result {
	out := make([]report.Result, 0, len(results))
	for _, r := range results {
		out = append(out, masked(r, mask))
	}
	return out
}
