//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDatabaseImage proves the e2e database image before the backup tests rely on it:
// each server starts from its environment like the official image, with a named volume,
// and stores and returns data.
func TestDatabaseImage(t *testing.T) {
	t.Parallel()
	p := newProject(t, "databases")

	vols := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+p.name))
	if len(vols) != 3 {
		t.Errorf("want 3 named volumes, got %q", vols)
	}

	t.Run("postgres", func(t *testing.T) {
		psql := []string{"psql", "-v", "ON_ERROR_STOP=1", "-U", "app", "-d", "appdb", "-tA"}
		p.execInput(t, "postgres", "CREATE TABLE t (v text); INSERT INTO t VALUES ('hello');", psql...)
		if got := strings.TrimSpace(p.exec(t, "postgres", append(psql, "-c", "SELECT v FROM t")...)); got != "hello" {
			t.Errorf("select = %q, want hello", got)
		}
		// POSTGRES_PASSWORD is the password over TCP, as in the official image.
		tcp := p.exec(t, "postgres", "env", "PGPASSWORD=app-secret", "psql", "-h", "127.0.0.1", "-U", "app", "-d", "appdb", "-tAc", "select 1")
		if strings.TrimSpace(tcp) != "1" {
			t.Errorf("select 1 over TCP = %q", tcp)
		}
		if r := p.tryExec(t, "postgres", "", "env", "PGPASSWORD=wrong", "psql", "-h", "127.0.0.1", "-U", "app", "-d", "appdb", "-c", "select 1"); r.code == 0 {
			t.Errorf("a wrong password was accepted over TCP: %v", r)
		}
	})

	t.Run("mariadb", func(t *testing.T) {
		sql := []string{"mariadb", "-uroot", "-proot-secret", "-N", "shop"}
		p.execInput(t, "mariadb", "CREATE TABLE t (v text); INSERT INTO t VALUES ('hello');", sql...)
		if got := strings.TrimSpace(p.exec(t, "mariadb", append(sql, "-e", "SELECT v FROM t")...)); got != "hello" {
			t.Errorf("select = %q, want hello", got)
		}
		if r := p.tryExec(t, "mariadb", "", "mariadb", "-uroot", "-e", "select 1"); r.code == 0 {
			t.Errorf("root got in without MARIADB_ROOT_PASSWORD: %v", r)
		}
	})

	t.Run("redis", func(t *testing.T) {
		if got := strings.TrimSpace(p.exec(t, "redis", "redis-cli", "PING")); got != "PONG" {
			t.Errorf("PING = %q", got)
		}
		p.exec(t, "redis", "redis-cli", "SET", "k", "hello")
		if got := strings.TrimSpace(p.exec(t, "redis", "redis-cli", "GET", "k")); got != "hello" {
			t.Errorf("GET k = %q, want hello", got)
		}
	})
}

// TestMinio proves startMinio and resticJSON: restic makes a repository in the bucket
// and lists its (no) snapshots.
func TestMinio(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	pw := passwordFile(t)
	resticJSONEnv(t, m.Repo("repo"), pw, m.Env(), "init")
	var snaps []json.RawMessage
	out := resticJSONEnv(t, m.Repo("repo"), pw, m.Env(), "snapshots")
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 0 {
		t.Fatalf("snapshots of a new repository = %q (%v), want []", out, err)
	}
}

// TestResticImage proves the restic helper image with a local repository: init, a
// backup from stdin, and the snapshot that plain restic lists afterwards.
func TestResticImage(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	pw := passwordFile(t)
	resticJSON(t, repo, pw, "init")
	backup := resticCmd(repo, pw, nil, "--no-cache", "backup", "--stdin", "--stdin-filename", "hello.txt", "--host", "e2e")
	backup.stdin = "hello\n"
	r := backup.run()
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var snaps []struct {
		Paths []string `json:"paths"`
		Host  string   `json:"hostname"`
	}
	out := resticJSON(t, repo, pw, "snapshots")
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 1 || snaps[0].Host != "e2e" ||
		len(snaps[0].Paths) != 1 || snaps[0].Paths[0] != "/hello.txt" {
		t.Fatalf("snapshots = %s (%v), want one of /hello.txt from host e2e", out, err)
	}
}
