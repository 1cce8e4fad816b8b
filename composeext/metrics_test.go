package composeext

import "testing"

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:9187", true},
		{":9187", true},
		{"localhost:9187", true},
		{"[::1]:9187", true},
		{"metrics.internal.example:80", true},
		{"9187", false},
		{"localhost", false},
		{"localhost:http", false},
		{":0", false},
		{":65536", false},
		{"my host:9187", false},
		{"-bad-:9187", false},
	} {
		if got := checkListen(tc.addr) == ""; got != tc.ok {
			t.Errorf("checkListen(%q) = %q, want ok %v", tc.addr, checkListen(tc.addr), tc.ok)
		}
	}
}
