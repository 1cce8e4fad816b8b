package app

import (
	"slices"
	"time"

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

// finishReport closes the report of a run over services (up, verify): its duration,
// the services' outcomes, its error (masked, on one line) and its overall status.
func finishReport(rep *report.Run, results []report.Result, err error, mask func(string) string) {
	rep.Duration = time.Since(rep.Started)
	rep.Services = report.Services(results)
	if err != nil {
		rep.Error = mask(report.OneLine(err.Error()))
	}
	rep.Status = report.Overall(err, rep.Services)
}
