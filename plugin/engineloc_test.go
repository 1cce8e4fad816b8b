package plugin

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"

	"github.com/docker-backup/docker-backup/internal/app"
)

func TestLocateEngine(t *testing.T) {
	dir := t.TempDir()
	contexts := store.New(dir+"/contexts", command.DefaultContextStoreConfig())
	for name, host := range map[string]string{"prod": "ssh://deploy@prod", "desktop": "unix:///home/me/.docker/run/docker.sock"} {
		err := contexts.CreateOrUpdate(store.Metadata{Name: name, Metadata: command.DockerContext{},
			Endpoints: map[string]any{docker.DockerEndpoint: docker.EndpointMeta{Host: host}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		remote   bool
		endpoint string
		wantErr  bool
	}{
		{"default socket", nil, nil, false, "unix:///var/run/docker.sock", false},
		{"-H tcp", []string{"-H", "tcp://10.0.0.5:2375"}, nil, true, "tcp://10.0.0.5:2375", false},
		{"-H unix", []string{"-H", "unix:///tmp/d.sock"}, nil, false, "unix:///tmp/d.sock", false},
		{"DOCKER_HOST", nil, map[string]string{"DOCKER_HOST": "ssh://me@box"}, true, "ssh://me@box", false},
		{"-H wins over DOCKER_HOST", []string{"-H", "unix:///tmp/d.sock"}, map[string]string{"DOCKER_HOST": "tcp://x:2375"}, false, "unix:///tmp/d.sock", false},
		{"--context", []string{"--context", "prod"}, nil, true, "ssh://deploy@prod", false},
		{"DOCKER_CONTEXT", nil, map[string]string{"DOCKER_CONTEXT": "desktop"}, false, "unix:///home/me/.docker/run/docker.sock", false},
		{"DOCKER_HOST wins over DOCKER_CONTEXT", nil, map[string]string{"DOCKER_HOST": "tcp://x:2375", "DOCKER_CONTEXT": "desktop"}, true, "tcp://x:2375", false},
		{"--context default", []string{"--context", "default"}, map[string]string{"DOCKER_HOST": "tcp://x:2375"}, true, "tcp://x:2375", false},
		// As docker: TLS flags without the certificates they name are an error.
		{"--tls without its files", []string{"--tlsverify"}, nil, false, "", true},
		{"unknown context", []string{"--context", "nope"}, nil, false, "", true},
		{"--context and -H", []string{"--context", "prod", "-H", "tcp://x:2375"}, nil, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT"} {
				t.Setenv(k, tc.env[k])
			}
			g, _, err := parseGlobalFlags(append(append([]string{"--config", dir}, tc.args...), "backup", "plan"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.locateEngine(io.Discard)
			if tc.wantErr {
				if err == nil {
					t.Errorf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got.Remote != tc.remote || got.Endpoint != tc.endpoint {
				t.Errorf("got %+v, %v; want remote %v endpoint %q", got, err, tc.remote, tc.endpoint)
			}
		})
	}
}

// With no flag and no variable, config.json's currentContext names the context.
func TestLocateEngineFromTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	err := store.New(dir+"/contexts", command.DefaultContextStoreConfig()).CreateOrUpdate(store.Metadata{Name: "prod",
		Metadata: command.DockerContext{}, Endpoints: map[string]any{docker.DockerEndpoint: docker.EndpointMeta{Host: "tcp://prod:2376"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext": "prod"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The configuration folder by --config: docker/cli reads DOCKER_CONFIG once a process.
	g, _, err := parseGlobalFlags([]string{"--config", dir, "backup", "plan"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want app.Location
	}{
		{map[string]string{}, app.Location{Remote: true, Endpoint: "tcp://prod:2376"}},
		{map[string]string{"DOCKER_HOST": "unix:///tmp/d.sock"}, app.Location{Endpoint: "unix:///tmp/d.sock", Socket: "/tmp/d.sock"}},
	} {
		for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT"} {
			t.Setenv(k, tc.env[k])
		}
		got, err := g.locateEngine(io.Discard)
		if err != nil || got != tc.want {
			t.Errorf("%v: got %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
	}
}
