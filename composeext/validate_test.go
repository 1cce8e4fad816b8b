package composeext

import (
	"strings"
	"testing"
)

// A service's timeout below a second and an empty exclude pattern are refused, each at
// its own key path, alongside the rest of what is wrong.
func TestServiceRanges(t *testing.T) {
	lang, err := compileSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    map[string]any
		want []string
	}{
		{"timeout 1ns", map[string]any{"timeout": "1ns"}, []string{`x.timeout: got "1ns", want at least 1s`}},
		{"timeout 999ms", map[string]any{"timeout": "999ms"}, []string{`x.timeout: got "999ms", want at least 1s`}},
		{"timeout 1s", map[string]any{"timeout": "1s"}, nil},
		{"timeout 1500ms", map[string]any{"timeout": "1500ms"}, nil},
		{"timeout 0.5m", map[string]any{"timeout": "0.5m"}, nil},
		{"exclude list", map[string]any{"exclude": []any{"*.tmp", "", " "}}, []string{"x.exclude[1]: got string \"\", want a restic pattern", "x.exclude[2]: got string \" \""}},
		{"exclude string", map[string]any{"exclude": ""}, []string{"x.exclude: got string \"\""}},
		{"exclude not a string", map[string]any{"exclude": []any{map[string]any{"a": 1}}}, []string{"x.exclude[0]: got a mapping, want a restic pattern"}},
		{"all at once", map[string]any{"timeout": "1ns", "exclude": []any{""}, "stop": "maybe"},
			[]string{"x.exclude[0]: got string", "x.stop: got string", "x.timeout: got \"1ns\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &decoder{probs: &problems{}, lang: lang}
			sd, _ := d.decodeService("x", tc.v)
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
