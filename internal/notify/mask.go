package notify

import (
	"slices"

	"github.com/docker-backup/docker-backup/internal/report"
)

// masked is run with its error lines masked again by the plan's masker: a notice and a
// ping go to a third party, so what they carry is masked where it is sent, whoever
// built the report (composeext.Plan.Mask: the secrets' values and any URL's password).
func masked(run report.Run, mask func(string) string) report.Run {
	run.Error = mask(run.Error)
	run.Services = slices.Clone(run.Services)
	for i := range run.Services {
		run.Services[i].Error = mask(run.Services[i].Error)
	}
	return run
}
