package retention

import (
	"fmt"
	"strings"
)

// Describe shows the policy as restic's flags read, for plan; a nil policy keeps
// everything.
func (r *Policy) Describe() string {
	if r == nil {
		return "none (snapshots are kept until you forget them)"
	}
	var parts []string
	add := func(name string, n int) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
	}
	add("last", r.KeepLast)
	add("hourly", r.KeepHourly)
	add("daily", r.KeepDaily)
	add("weekly", r.KeepWeekly)
	add("monthly", r.KeepMonthly)
	add("yearly", r.KeepYearly)
	if r.KeepWithin != "" {
		parts = append(parts, "within "+r.KeepWithin)
	}
	return "keep " + strings.Join(parts, ", ")
}
