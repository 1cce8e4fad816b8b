package backup

import (
	"strings"

	"github.com/docker-backup/docker-backup/internal/report"
)

// Report turns the results of Up into the form alerts, metrics and the scheduler read;
// mask hides secrets in the error lines (composeext.Plan.Mask).
func Report(results []Result, mask func(string) string) []report.Service {
	out := make([]report.Service, 0, len(results))
	for _, r := range results {
		s := report.Service{
			Service:    r.Service,
			Strategy:   string(r.Strategy),
			Status:     r.Status,
			Snapshot:   r.Summary.SnapshotID,
			Duration:   r.Duration,
			BytesAdded: r.Summary.DataAdded,
			Files:      r.Summary.TotalFilesProcessed,
		}
		switch {
		case r.Err != nil:
			s.Error = report.OneLine(mask(r.Err.Error()))
		case len(r.Warnings) > 0:
			s.Error = report.OneLine(mask(strings.Join(r.Warnings, "; ")))
		}
		out = append(out, s)
	}
	return out
}
