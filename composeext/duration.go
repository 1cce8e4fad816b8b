package composeext

import "time"

// Duration is a time.Duration written as compose writes one ("90s", "1h30m").
type Duration time.Duration

// MarshalText writes the duration as Go prints it ("1h30m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// IsZero lets omitempty leave an unset duration out.
func (d Duration) IsZero() bool { return d == 0 }
