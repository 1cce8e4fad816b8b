package composeext

import (
	"strings"
	"testing"
)

// A --read-data-subset of restic's form that reads nothing, or more than everything, is
// refused by plan, not by restic when the scheduled check runs.
func TestReadDataSubsetRange(t *testing.T) {
	for s, want := range map[string]string{
		"1/5": "", "5/5": "", "1/1": "", "10%": "", "100%": "", "0.5%": "", "100.0%": "", "2G": "", "500": "", "1K": "",
		"0/5": "1 <= n <= t", "6/5": "1 <= n <= t", "1/0": "1 <= n <= t", "0/0": "1 <= n <= t",
		"0%": "above 0%", "0.0%": "above 0%", "250%": "at most 100%", "100.5%": "at most 100%",
		"0": "a size above 0", "0G": "a size above 0", "000M": "a size above 0",
		"half": "want restic's --read-data-subset", "-1/5": "want restic's --read-data-subset", "": "want restic's",
	} {
		got := subsetProblem(s)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("subsetProblem(%q) = %q, want %q", s, got, want)
		}
		if want != "" && !strings.Contains(got, `"`+s+`"`) {
			t.Errorf("subsetProblem(%q) = %q: does not name the value", s, got)
		}
	}
}

// A service's timeout below a second and an empty exclude pattern are refused, each at
// its own key path, alongside the rest of what is wrong.
func TestServiceRanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    map[string]any
		want []string
	}{
		{"timeout 1ns", map[string]any{"timeout": "1ns"}, []string{`x.timeout: got "1ns", want at least 1s`}},
		{"timeout 999ms", map[string]any{"timeout": "999ms"}, []string{`x.timeout: got "999ms", want at least 1s`}},
		{"timeout 1s", map[string]any{"timeout": "1s"}, nil},
		{"timeout 0.5m", map[string]any{"timeout": "0.5m"}, nil},
		{"exclude list", map[string]any{"exclude": []any{"*.tmp", "", " "}}, []string{"x.exclude[1]: empty pattern", "x.exclude[2]: empty pattern"}},
		{"exclude string", map[string]any{"exclude": ""}, []string{"x.exclude: empty pattern"}},
		{"exclude not a string", map[string]any{"exclude": []any{map[string]any{"a": 1}}}, []string{"x.exclude[0]: got a mapping, want a string"}},
		{"all at once", map[string]any{"timeout": "1ns", "exclude": []any{""}, "stop": "maybe"},
			[]string{"x.exclude[0]: empty pattern", "x.stop: got string", "x.timeout: got \"1ns\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &decoder{probs: &problems{}}
			sd, _ := d.decodeServiceMap("x", tc.v)
			var got []string
			for _, p := range d.probs.list {
				got = append(got, p.path+": "+p.msg)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("problems %q: none begins %q", got, w)
				}
			}
			if len(tc.want) > 0 && strings.Contains(tc.name, "timeout") && sd.Timeout != 0 {
				t.Errorf("a refused timeout was kept: %v", sd.Timeout)
			}
		})
	}
}
