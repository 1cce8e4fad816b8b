//go:build e2e

package e2e

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoteEngine runs the plugin against the engine through a tcp:// address, which
// the plugin takes for another machine's: a relative repository is refused, init has
// the engine create an absolute one's folder, and up finds a missing folder through the
// engine's own refusal. (The engine is this machine's, so the test can look.)
func TestRemoteEngine(t *testing.T) {
	t.Parallel()
	remote := tcpEngine(t)
	dir := t.TempDir()
	name := runPrefix + randomHex(3)
	compose := "name: " + name + `
x-backup:
  repository: ${REPO:-./backups}
  password_file: ./restic.pw
services:
  app:
    image: busybox
    volumes: [data:/data]
    x-backup: true
volumes: {data: {}}
`
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "restic.pw"), []byte("e2e-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backup := func(repo string, args ...string) result {
		r := cmdSpec{argv: append([]string{"docker", "-H", remote, "backup"}, args...), dir: dir, env: []string{"REPO=" + repo}}.run()
		t.Logf("%s (REPO=%s): exit code %d", r.cmd, repo, r.code)
		return r
	}

	r := backup("", "up")
	want := `compose.yaml: x-backup.repository: "./backups" is relative, but the engine (` + remote + `) is on another machine`
	if l := lines(r.stderr); r.code != 2 || len(l) != 1 || !strings.HasPrefix(l[0], want) {
		t.Fatalf("relative repository: want exit 2 and one line beginning %q: %v", want, r)
	}
	if _, err := os.Stat(filepath.Join(dir, "backups")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused repository's folder was created on the client")
	}

	repo := filepath.Join(t.TempDir(), "engine-host", "shop")
	r = backup(repo, "up")
	want = "repository " + repo + " on the engine's host (" + remote + ") does not exist (is its disk mounted?): create it with 'docker backup init'"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("missing folder: want exit 1 and %q: %v", want, r)
	}
	if _, err := os.Stat(repo); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("up created the repository's folder")
	}

	r = backup(repo, "plan")
	if r.code != 0 || !strings.Contains(r.stdout, repo+" (on the engine's host, "+remote+")") {
		t.Errorf("plan does not say the repository is on the engine's host: %v", r)
	}
	r = backup(repo, "init")
	if r.code != 0 || !strings.Contains(r.stdout, "created repository "+repo+" on the engine's host") {
		t.Fatalf("init: %v", r)
	}
	if _, err := os.Stat(filepath.Join(repo, "config")); err != nil {
		t.Errorf("init made no restic repository in the folder the engine created: %v", err)
	}
	if r = backup(repo, "snapshots"); r.code != 0 {
		t.Errorf("snapshots after init: %v", r)
	}
}

// tcpEngine returns a tcp:// address of the engine: its own when it has one, else a
// proxy to its socket that lives as long as the test.
func tcpEngine(t *testing.T) string {
	if strings.HasPrefix(env.dockerHost, "tcp://") {
		return env.dockerHost
	}
	return "tcp://" + newByteProxy(t, mainEngineSocket(t)).Addr()
}

// mainEngineSocket is the socket of the engine the tests run against.
func mainEngineSocket(t *testing.T) string {
	socket, ok := strings.CutPrefix(env.dockerHost, "unix://")
	if !ok {
		t.Fatalf("engine at %s: want unix://", env.dockerHost)
	}
	return socket
}
