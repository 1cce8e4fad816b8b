package verify

import (
	"github.com/docker-backup/docker-backup/internal/report"
)

// Report is the drill's results as report's services (for metrics and alerts), their
// errors masked by mask (the plan's secrets).
func Report(results []Result, mask func(string) string) []report.Service {
	out := make([]report.Service, 0, len(results))
	for _, r := range results {
		s := report.Service{Service: r.Service, Strategy: string(r.Strategy), Status: r.Status, Snapshot: r.Snapshot.ID, Duration: r.Restore}
		if r.Err != nil {
			s.Error = mask(report.OneLine(r.Err.Error()))
		}
		out = append(out, s)
	}
	return out
}
