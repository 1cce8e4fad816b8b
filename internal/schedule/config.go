package schedule

import (
	"fmt"

	"github.com/robfig/cron/v3"
)

// Maintenance is a maintenance job of the scheduler as x-backup.check, x-backup.prune
// and x-backup.verify declare it. The JSON Schema checks its keys and the form of
// read_data_subset (composeext/schema); CheckSpec checks the cron expression.
type Maintenance struct {
	// Schedule is a cron expression (5 fields, or @daily-style).
	Schedule string `json:"schedule" mapstructure:"schedule"`
	// ReadDataSubset is restic check's --read-data-subset (check only): "10%", "1/5", "2G".
	ReadDataSubset string `json:"read_data_subset,omitempty" mapstructure:"read_data_subset"`
}

// CheckSpec says what is wrong with a cron expression of x-backup (schedule, and a
// maintenance job's schedule), in the words of a configuration message; "" when cron
// accepts it.
func CheckSpec(spec string) string {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Sprintf("invalid cron expression %q: %v (want 5 fields like \"0 3 * * *\" or @daily)", spec, err)
	}
	return ""
}
