package notify

import "testing"

// TestHealthcheckBase checks the healthchecks.io convention of a base URL: /start and
// /fail at the end of its path, before a query.
func TestHealthcheckBase(t *testing.T) {
	for _, tc := range []struct{ in, start, success, failure string }{
		{"https://hc-ping.com/abc", "https://hc-ping.com/abc/start", "https://hc-ping.com/abc", "https://hc-ping.com/abc/fail"},
		{"https://hc-ping.com/abc/", "https://hc-ping.com/abc/start", "https://hc-ping.com/abc/", "https://hc-ping.com/abc/fail"},
		{"https://hc.example.com/ping/key/slug?create=1", "https://hc.example.com/ping/key/slug/start?create=1",
			"https://hc.example.com/ping/key/slug?create=1", "https://hc.example.com/ping/key/slug/fail?create=1"},
	} {
		hc, err := BaseHealthcheck(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if hc.Start.URL != tc.start || hc.Success.URL != tc.success || hc.Failure.URL != tc.failure {
			t.Errorf("%s: start %s, success %s, failure %s", tc.in, hc.Start.URL, hc.Success.URL, hc.Failure.URL)
		}
	}
}
