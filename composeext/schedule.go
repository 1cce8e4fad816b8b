package composeext

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

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

// subsetProblem says what is wrong with a --read-data-subset that has restic's form but
// reads no data or more than all of it (restic would refuse it when the check runs,
// long after plan said nothing); "" when it is fine.
func subsetProblem(s string) string {
	const want = "want restic's --read-data-subset: a part like 1/5, a percentage like 10%, or a size like 2G"
	if !subsetRE.MatchString(s) {
		return fmt.Sprintf("got %q, %s", s, want)
	}
	switch {
	case strings.HasSuffix(s, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || p <= 0 || p > 100 {
			return fmt.Sprintf("got %q, want a percentage above 0%% and at most 100%%", s)
		}
	case strings.Contains(s, "/"):
		ns, ts, _ := strings.Cut(s, "/")
		n, nerr := strconv.Atoi(ns)
		t, terr := strconv.Atoi(ts)
		if nerr != nil || terr != nil || t < 1 || n < 1 || n > t {
			return fmt.Sprintf("got %q, want n/t with 1 <= n <= t: part n of t parts (1/5 reads the first fifth)", s)
		}
	default:
		if strings.Trim(strings.TrimRight(s, "KMGT"), "0") == "" {
			return fmt.Sprintf("got %q, want a size above 0, like 500M or 2G", s)
		}
	}
	return ""
}

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
			if msg := subsetProblem(s); msg != "" {
				d.probs.addf(path+".read_data_subset", "%s", msg)
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
