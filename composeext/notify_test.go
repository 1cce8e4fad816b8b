package composeext

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotifyMasked checks that notify and healthcheck URLs are secrets: Mask hides them
// and their tokens, and the plan's JSON shows only their masked form.
func TestNotifyMasked(t *testing.T) {
	dir, err := filepath.Abs("testdata/notify")
	if err != nil {
		t.Fatal(err)
	}
	const slack = "slack://hook:WNA3PBYV6-F20DUQND3RQ-Webc4MAvoacrpPakR8phF0zi@webhook"
	plan, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Environ: []string{"HOME=/home/user", "SLACK_URL=" + slack}})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Notify[0].URL; got != slack {
		t.Errorf("notify[0] = %q, want the interpolated %q", got, slack)
	}
	for _, tc := range []struct{ in, want string }{
		{"sending to " + slack + ": refused", "sending to ***: refused"},
		{`Post "https://hooks.example.com/services/T0001/B0002/XXXXXXXX": EOF`, `Post "***": EOF`},
		{"token WNA3PBYV6-F20DUQND3RQ-Webc4MAvoacrpPakR8phF0zi is bad", "token *** is bad"},
		{"GET https://hc-ping.com/0b9a4a4e-9d3c-4c62-8a0f-1f4f2b7c1e55/fail: 404", "GET ***: 404"},
		{"https://api.example.com/T0001/B0002", "https://api.example.com/T0001/B0002"},
		{"http://127.0.0.1:8080/x?token=abc123def456", "http://127.0.0.1:8080/x?token=***"},
		{"the services of the webhook", "the services of the webhook"},
	} {
		if got := plan.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	b, err := json.Marshal(plan.Masked())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"WNA3PBYV6", "T0001", "0b9a4a4e", "abc123def456"} {
		if strings.Contains(string(b), s) {
			t.Errorf("the plan's JSON shows %q:\n%s", s, b)
		}
	}
}
