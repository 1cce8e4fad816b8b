package app

import "testing"

func TestLocateEndpoint(t *testing.T) {
	for _, tc := range []struct {
		host     string
		remote   bool
		endpoint string
		// socket is the endpoint's own socket: the dump helpers' default.
		socket string
	}{
		{"unix:///var/run/docker.sock", false, "unix:///var/run/docker.sock", "/var/run/docker.sock"},
		{"unix:///run/user/1000/docker.sock", false, "unix:///run/user/1000/docker.sock", "/run/user/1000/docker.sock"},
		{"unix:///run/user/1000//docker.sock", false, "unix:///run/user/1000//docker.sock", "/run/user/1000/docker.sock"},
		{"unix://relative.sock", false, "unix://relative.sock", ""},
		{"npipe:////./pipe/docker_engine", false, "npipe:////./pipe/docker_engine", ""},
		{"fd://", false, "fd://", ""},
		// tcp:// is another machine even on loopback: it may be a tunnel or a VM's port.
		{"tcp://127.0.0.1:2375", true, "tcp://127.0.0.1:2375", ""},
		{"tcp://localhost:2376", true, "tcp://localhost:2376", ""},
		{"tcp://prod.example.com:2376", true, "tcp://prod.example.com:2376", ""},
		{"ssh://deploy@prod.example.com", true, "ssh://deploy@prod.example.com", ""},
		{"ssh://deploy:s3cret@prod.example.com:2222", true, "ssh://deploy:***@prod.example.com:2222", ""},
		{"http://prod:2375", true, "http://prod:2375", ""},
	} {
		t.Run(tc.host, func(t *testing.T) {
			got := LocateEndpoint(tc.host)
			if got.Remote != tc.remote || got.Endpoint != tc.endpoint || got.Socket != tc.socket {
				t.Errorf("LocateEndpoint(%q) = %+v, want remote %v endpoint %q socket %q", tc.host, got, tc.remote, tc.endpoint, tc.socket)
			}
		})
	}
}

// locateEngine resolves the endpoint in docker's order, from flags, environment and
// the context store of the configuration folder.
