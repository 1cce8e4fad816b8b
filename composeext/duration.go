package composeext

import (
	"strings"
	"time"
)

// Duration is a time.Duration written as compose writes one ("90s", "1h30m").
type Duration time.Duration

// MarshalText writes the duration as Go prints it ("1h30m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// IsZero lets omitempty leave an unset duration out.
func (d Duration) IsZero() bool { return d == 0 }

// duration reads a positive duration such as 30m or 1h30m.
func (d *decoder) duration(path string, v any) (Duration, bool) {
	s, ok := v.(string)
	if !ok {
		d.probs.addf(path, "got %s, want a duration such as 30m or 1h30m", describe(v))
		return 0, false
	}
	t, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || t <= 0 {
		d.probs.addf(path, "got %q, want a positive duration such as 30m or 1h30m", s)
		return 0, false
	}
	return Duration(t), true
}
