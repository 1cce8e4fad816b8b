package composeext

import (
	"regexp"

	"github.com/robfig/cron/v3"
)

// Job is a scheduled maintenance job of the scheduler (x-backup.check, x-backup.prune,
// x-backup.verify).
type Job struct {
	// Schedule is a cron expression (5 fields, or @daily-style).
	Schedule string `json:"schedule"`
	// ReadDataSubset is restic check's --read-data-subset (check only): "10%", "1/5", "2G".
	ReadDataSubset string `json:"read_data_subset,omitempty"`
}

// checkKeys, pruneKeys and verifyKeys are the keys of x-backup.check, .prune and .verify.
var (
	checkKeys  = []string{"schedule", "read_data_subset"}
	pruneKeys  = []string{"schedule"}
	verifyKeys = []string{"schedule"}
)

// subsetRE matches restic's --read-data-subset: n/t, a percentage, or a size.
var subsetRE = regexp.MustCompile(`^([0-9]+/[0-9]+|[0-9]+(\.[0-9]+)?%|[0-9]+[KMGT]?)$`)

// cronSpec reads a cron expression at path.
func (d *decoder) cronSpec(path string, v any) string {
	s, ok := d.str(path, v)
	if !ok {
		return ""
	}
	if _, err := cron.ParseStandard(s); err != nil {
		d.probs.addf(path, "invalid cron expression %q: %v (want 5 fields like \"0 3 * * *\" or @daily)", s, err)
		return ""
	}
	return s
}

// job reads x-backup.check, .prune or .verify: a mapping with a schedule.
func (d *decoder) job(path string, v any, keys []string) *Job {
	m, ok := d.fields(path, v, keys, "a mapping with a schedule")
	if !ok {
		return nil
	}
	raw, ok := m["schedule"]
	if !ok {
		d.probs.addf(path+".schedule", "missing (want a cron expression like \"0 4 * * 0\" or @weekly)")
		return nil
	}
	j := &Job{Schedule: d.cronSpec(path+".schedule", raw)}
	if v, ok := m["read_data_subset"]; ok {
		if s, ok := d.str(path+".read_data_subset", v); ok {
			if !subsetRE.MatchString(s) {
				d.probs.addf(path+".read_data_subset", "got %q, want restic's --read-data-subset: a part like 1/5, a percentage like 10%%, or a size like 2G", s)
			} else {
				j.ReadDataSubset = s
			}
		}
	}
	if j.Schedule == "" {
		return nil
	}
	return j
}
