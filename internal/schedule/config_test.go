package schedule

import (
	"strings"
	"testing"
)

// TestCheckSpec checks that cron's own expressions pass and a wrong one is told with
// cron's reason and the forms wanted.
func TestCheckSpec(t *testing.T) {
	for spec, want := range map[string]string{
		"0 3 * * *": "", "@daily": "", "@every 10s": "",
		"61 * * * *": "above maximum (59)", "every day": "expected exactly 5 fields",
	} {
		got := CheckSpec(spec)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("CheckSpec(%q) = %q, want %q", spec, got, want)
		}
		if want != "" && !strings.Contains(got, `"0 3 * * *" or @daily`) {
			t.Errorf("CheckSpec(%q) = %q: does not say what is wanted", spec, got)
		}
	}
}
