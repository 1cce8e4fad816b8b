//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEngineSocket runs the plugin against a second engine of this host reached as a
// local unix:// endpoint (DOCKER_HOST=unix://…/docker.sock, as a rootless engine beside a
// rootful one is). With no x-backup.docker_socket, the dump helper gets that engine's
// own socket: the PostgreSQL dump is backed up, every helper and the anchor of a folder
// repository run with no network, and the snapshot restores the table. With
// x-backup.docker_socket naming the main engine's socket, up fails before anything
// stops (the stop: true service keeps running, its StartedAt unchanged, no snapshot
// added) with one line naming the setting and both engines' IDs, exit code 2.
func TestEngineSocket(t *testing.T) {
	t.Parallel()
	e := sharedRemoteEngine(t)

	p, _ := newRemoteFolderProject(t, e, "engine-socket", "E2E_SOCKET_REPOSITORY")
	// The plugin reaches the second engine at its socket, as a local engine: DOCKER_HOST
	// wins over any context.
	local := func(args ...string) result {
		t.Helper()
		c := cmdSpec{argv: append([]string{"docker", "backup"}, args...), dir: p.dir,
			env: append([]string{"DOCKER_HOST=unix://" + e.Socket, "DOCKER_CONTEXT=", "COMPOSE_PROJECT_NAME=" + p.name}, p.env...)}
		start := time.Now()
		r := c.run()
		t.Logf("DOCKER_HOST=unix://%s %s: exit code %d in %s", e.Socket, r.cmd, r.code, time.Since(start).Round(time.Millisecond))
		return r
	}
	// init builds the helper image on the second engine: the commands below print
	// only their own lines.
	if r := local("init"); r.code != 0 {
		t.Fatalf("%v", r)
	}

	p.pgSQL(t, "CREATE TABLE notes (id int PRIMARY KEY, body text); "+
		"INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 5000) g;")
	checksum := func() string {
		return strings.TrimSpace(p.pgSQL(t, "SELECT count(*) || ' ' || md5(coalesce(string_agg(id || ':' || body, ',' ORDER BY id), '')) FROM notes"))
	}
	want := checksum()

	t.Run("local endpoint", func(t *testing.T) {
		// Every container of ours that shows while up runs: its network mode.
		seen := watchNetworks(t, e, p.ourLabel())
		r := local("up", "db", "--json")
		networks := seen()
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		if size := p.processed(t, r.stdout, "db"); size == 0 {
			t.Fatalf("the dump of db is empty")
		}
		if len(networks) == 0 {
			t.Errorf("no container of ours was seen while up ran")
		}
		for name, mode := range networks {
			if mode != "none" {
				t.Errorf("%s ran with network %q, want none (a folder repository needs none)", name, mode)
			}
		}
		t.Logf("containers of ours seen while up ran, with their network: %v", networks)

		p.pgSQL(t, "DELETE FROM notes WHERE id % 3 = 0; UPDATE notes SET body = 'damaged' WHERE id < 100;")
		if checksum() == want {
			t.Fatal("the damage changed nothing")
		}
		if r := local("restore", "db", "--yes"); r.code != 0 {
			t.Fatalf("%v", r)
		}
		if got := checksum(); got != want {
			t.Errorf("table notes after restore: %s, want %s", got, want)
		} else {
			t.Logf("table notes after restore: %s, as backed up", got)
		}
	})

	t.Run("socket of another engine", func(t *testing.T) {
		before := local("snapshots", "--json")
		if before.code != 0 {
			t.Fatalf("%v", before)
		}
		f, err := os.OpenFile(filepath.Join(p.dir, "compose.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		other := mainEngineSocket(t)
		if _, err := fmt.Fprintf(f, "  docker_socket: %s\n", other); err != nil {
			t.Fatal(err)
		}
		f.Close()
		files := p.containers(t)["files"]
		startedAt := func() string {
			return strings.TrimSpace(e.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", files))
		}
		was := startedAt()
		// Up to Engine 20.10 the ID is the host's key file's, which both engines of this
		// host share: the line then names their data roots too.
		this := strings.Fields(e.MustDocker(t, "info", "--format", "{{.ID}} {{.DockerRootDir}}"))
		that := strings.Fields(mustDocker(t, "info", "--format", "{{.ID}} {{.DockerRootDir}}"))
		describe := func(a, b []string) string {
			if a[0] != b[0] {
				return "ID " + a[0]
			}
			return "ID " + a[0] + ", data root " + a[1]
		}

		r := local("up")
		wantLine := fmt.Sprintf("compose.yaml: x-backup.docker_socket: %s is the socket of another engine (%s) than the one docker-backup talks to (%s): set it to the socket of this engine on its host",
			other, describe(that, this), describe(this, that))
		if r.code != 2 || strings.TrimSpace(r.stderr) != wantLine {
			t.Errorf("want exit code 2 and the one line\n%s\ngot %v", wantLine, r)
		} else {
			t.Logf("up refused, exit code 2: %s", wantLine)
		}
		if now := startedAt(); now != was {
			t.Errorf("service files: %s after the refused up, was %s", now, was)
		}
		after := local("snapshots", "--json")
		if after.code != 0 || after.stdout != before.stdout {
			t.Errorf("the snapshots changed:\nbefore %s\nafter %v", before.stdout, after)
		}
		if left := lines(e.MustDocker(t, "ps", "-a", "--filter", p.ourLabel(), "--format", "{{.Names}}")); len(left) > 0 {
			t.Errorf("containers of ours left: %q", left)
		}
	})
}

// watchNetworks polls the engine for containers with label filter until the returned
// function is called, and then returns each one seen with its network mode.
func watchNetworks(t *testing.T, e *remoteEngine, filter string) func() map[string]string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]string{}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if ids := lines(e.Docker(t, "ps", "-q", "--filter", filter).stdout); len(ids) > 0 {
				// A helper may be gone by now: inspect prints the others.
				out := e.Docker(t, append([]string{"inspect", "--format", "{{.Name}} {{.HostConfig.NetworkMode}}"}, ids...)...).stdout
				mu.Lock()
				for _, l := range lines(out) {
					if name, mode, ok := strings.Cut(l, " "); ok {
						seen[strings.TrimPrefix(name, "/")] = mode
					}
				}
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() map[string]string {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}
