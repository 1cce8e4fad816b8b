package metrics

import "testing"

// TestConfigCheck checks listen addresses: host:port with a port from 1 to 65535.
func TestConfigCheck(t *testing.T) {
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
		if msg := (Config{Listen: tc.addr}).Check(); (msg == "") != tc.ok {
			t.Errorf("Check(%q) = %q, want ok %v", tc.addr, msg, tc.ok)
		}
	}
}
