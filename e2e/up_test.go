//go:build e2e

package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// snapshot is what plain restic says of a snapshot.
type snapshot struct {
	ID    string   `json:"id"`
	Paths []string `json:"paths"`
	Tags  []string `json:"tags"`
	Host  string   `json:"hostname"`
}

func (s snapshot) tag(key string) string {
	for _, t := range s.Tags {
		if k, v, ok := strings.Cut(t, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// snapshotsByService lists a repository's snapshots with plain restic, by service tag.
func snapshotsByService(t *testing.T, repo, password string, extraEnv []string) map[string][]snapshot {
	t.Helper()
	var snaps []snapshot
	if err := json.Unmarshal([]byte(resticJSONEnv(t, repo, password, extraEnv, "snapshots")), &snaps); err != nil {
		t.Fatalf("reading restic snapshots: %v", err)
	}
	by := map[string][]snapshot{}
	for _, s := range snaps {
		by[s.tag("service")] = append(by[s.tag("service")], s)
	}
	return by
}

// upEvent is one line of `docker backup up --json`.
type upEvent struct {
	Event   string `json:"event"`
	Service string `json:"service"`
	Status  string `json:"status"`
	Error   string `json:"error"`
	Summary *struct {
		FilesNew        int    `json:"files_new"`
		FilesChanged    int    `json:"files_changed"`
		FilesUnmodified int    `json:"files_unmodified"`
		SnapshotID      string `json:"snapshot_id"`
	} `json:"summary"`
}

// doneEvents reads up's JSON events and returns the closing one of each service.
func doneEvents(t *testing.T, stdout string) map[string]upEvent {
	t.Helper()
	done := map[string]upEvent{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var e upEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("up --json printed a line that is not JSON: %q", sc.Text())
		}
		if e.Event == "done" || e.Event == "error" {
			done[e.Service] = e
		}
	}
	return done
}

// seedUpProject puts known data in every service of the up scenario.
func seedUpProject(t *testing.T, p *project) {
	t.Helper()
	p.exec(t, "db", "psql", "-v", "ON_ERROR_STOP=1", "-U", "app", "-d", "appdb", "-c",
		"CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note number ' || g FROM generate_series(1, 100) g;")
	p.execInput(t, "shop", "CREATE TABLE items (id int PRIMARY KEY, name varchar(40)); INSERT INTO items VALUES (1, 'first-item'), (2, 'second-item');",
		"sh", "-c", `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot shop`)
	p.exec(t, "files", "sh", "-c", "mkdir -p /srv/uploads/a/b && echo one > /srv/uploads/a/one.txt && head -c 300000 /dev/urandom > /srv/uploads/a/b/blob")
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestUp(t *testing.T) {
	t.Parallel()
	p := newProject(t, "up")
	seedUpProject(t, p)
	repo, password := filepath.Join(p.dir, "backups"), filepath.Join(p.dir, "backups.key")
	filesID := p.container(t, "files")

	start := time.Now()
	filesEvents := recordContainerEvents(t, "container="+filesID)
	first := p.backup(t, "up", "--json")
	end := time.Now()
	if first.code != 0 {
		t.Fatalf("first up: %v", first)
	}
	done := doneEvents(t, first.stdout)
	for svc, want := range map[string]string{"db": "ok", "shop": "ok", "files": "ok", "cache": "skipped"} {
		if done[svc].Status != want {
			t.Errorf("first up: service %s ended %q, want %q (%+v)", svc, done[svc].Status, want, done[svc])
		}
	}

	t.Run("one snapshot per service with tags and paths", func(t *testing.T) {
		by := snapshotsByService(t, repo, password, nil)
		want := map[string][]string{
			"db":    {"/db.sql"},
			"shop":  {"/shop.sql"},
			"files": {"/backup/files/srv-site", "/backup/files/uploads"},
		}
		if len(by) != len(want) {
			t.Errorf("snapshots by service: %v, want exactly db, shop and files", by)
		}
		for svc, paths := range want {
			if len(by[svc]) != 1 {
				t.Fatalf("service %s has %d snapshots, want 1", svc, len(by[svc]))
			}
			s := by[svc][0]
			got := slices.Sorted(slices.Values(s.Paths))
			if !slices.Equal(got, paths) {
				t.Errorf("service %s: paths %v, want %v", svc, got, paths)
			}
			if !strings.HasPrefix(s.Host, p.name+"@") || s.tag("project") != p.name || s.tag("strategy") == "" || slices.Contains(s.Tags, "unconfirmed") {
				t.Errorf("service %s: host %q tags %v, want host %s@<machine>, project=%s, a strategy, confirmed", svc, s.Host, s.Tags, p.name, p.name)
			}
		}
	})

	t.Run("the data comes back", func(t *testing.T) {
		dbDump := resticCmd(repo, password, nil, "--no-cache", "dump", "latest", "/db.sql", "--tag", "service=db").run()
		if dbDump.code != 0 || !strings.Contains(dbDump.stdout, "note number 100") || !strings.Contains(dbDump.stdout, "CREATE TABLE public.notes") {
			t.Errorf("db.sql lacks the notes table: %v", dbDump.cmd)
		}
		shopDump := resticCmd(repo, password, nil, "--no-cache", "dump", "latest", "/shop.sql", "--tag", "service=shop").run()
		if shopDump.code != 0 || !strings.Contains(shopDump.stdout, "second-item") {
			t.Errorf("shop.sql lacks the items rows: %v", shopDump.cmd)
		}
		blob := resticCmd(repo, password, nil, "--no-cache", "dump", "latest", "/backup/files/uploads/a/b/blob", "--tag", "service=files").run()
		live := p.exec(t, "files", "sha256sum", "/srv/uploads/a/b/blob")
		if blob.code != 0 || !strings.HasPrefix(live, sha256Hex(blob.stdout)) {
			t.Errorf("the blob in the snapshot differs from the live one (%s)", live)
		}
		site := resticCmd(repo, password, nil, "--no-cache", "dump", "latest", "/backup/files/srv-site/index.html", "--tag", "service=files").run()
		if site.stdout != "<h1>hello</h1>\n" {
			t.Errorf("index.html from the bind mount: %q", site.stdout)
		}
	})

	t.Run("stop true stops the service during the copy and starts it again", func(t *testing.T) {
		if state := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.State.Status}}", filesID)); state != "running" {
			t.Errorf("files is %s after up, want running", state)
		}
		// The start came before up ended: its event is on its way, if not here yet.
		eventually(t, 10*time.Second, "files' stop and start events", func() error {
			acts := actions(filesEvents.of(filesID, start, end))
			if stop, restart := slices.Index(acts, "stop"), slices.Index(acts, "start"); stop < 0 || restart <= stop {
				return fmt.Errorf("container events during up: %v, want a stop then a start", acts)
			}
			return nil
		})
	})

	t.Run("a second up with no change reads no file again", func(t *testing.T) {
		second := p.backup(t, "up", "--json", "files")
		if second.code != 0 {
			t.Fatalf("second up: %v", second)
		}
		s := doneEvents(t, second.stdout)["files"].Summary
		if s == nil || s.FilesNew != 0 || s.FilesChanged != 0 || s.FilesUnmodified != 4 {
			t.Errorf("second up of files: summary %+v, want 4 files unmodified and none new or changed", s)
		}
	})

	t.Run("a failing dump leaves no snapshot and the others still run", func(t *testing.T) {
		before := snapshotsByService(t, repo, password, nil)
		r := p.backup(t, "-f", "compose.yaml", "-f", "compose.failing-dump.yaml", "up")
		if r.code != 1 {
			t.Fatalf("up with a failing dump: exit code %d, want 1: %v", r.code, r)
		}
		if !strings.Contains(r.stdout+r.stderr, "no_such_database") {
			t.Errorf("the error does not show the dump's stderr: %v", r)
		}
		after := snapshotsByService(t, repo, password, nil)
		if len(after["db"]) != len(before["db"]) {
			t.Errorf("db has %d snapshots after a failed dump, had %d", len(after["db"]), len(before["db"]))
		}
		for _, svc := range []string{"shop", "files"} {
			if len(after[svc]) != len(before[svc])+1 {
				t.Errorf("%s has %d snapshots, want %d: the other services must still run", svc, len(after[svc]), len(before[svc])+1)
			}
		}
	})

	t.Run("wrong password fails with one line and writes nothing", func(t *testing.T) {
		before := snapshotsByService(t, repo, password, nil)
		wrong := filepath.Join(t.TempDir(), "wrong")
		if err := os.WriteFile(wrong, []byte("not the password\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := p.backup(t, "--password-file", wrong, "up")
		if r.code != 1 {
			t.Fatalf("up with a wrong password: exit code %d, want 1: %v", r.code, r)
		}
		if msg := lines(r.stderr); len(msg) != 1 || !strings.Contains(msg[0], "wrong password") {
			t.Errorf("stderr %q, want one line saying the password is wrong", r.stderr)
		}
		after := snapshotsByService(t, repo, password, nil)
		for svc := range before {
			if len(after[svc]) != len(before[svc]) {
				t.Errorf("%s: %d snapshots after a wrong password, want %d", svc, len(after[svc]), len(before[svc]))
			}
		}
	})

	t.Run("stop true starts the service again when the backup fails", func(t *testing.T) {
		// The helper's bind mount source is gone: the copy fails after the service was stopped.
		if err := os.RemoveAll(filepath.Join(p.dir, "site")); err != nil {
			t.Fatal(err)
		}
		r := p.backup(t, "up", "files")
		if r.code != 1 {
			t.Fatalf("up with a missing bind source: exit code %d, want 1: %v", r.code, r)
		}
		if state := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.State.Status}}", filesID)); state != "running" {
			t.Errorf("files is %s after a failed backup, want running", state)
		}
	})
}

func TestUpS3(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	p := newProject(t, "up")
	seedUpProject(t, p)
	password := passwordFile(t)
	repo := m.Repo(p.name)
	s3 := []string{
		"COMPOSE_PROJECT_NAME=" + p.name, "DOCKER_BACKUP_NETWORK=host",
		"E2E_S3_REPOSITORY=" + repo, "E2E_S3_PASSWORD_FILE=" + password,
		"E2E_S3_ACCESS_KEY=" + m.AccessKey, "E2E_S3_SECRET_KEY=" + m.SecretKey,
	}
	backup := func(args ...string) result {
		argv := append([]string{"docker", "backup", "-f", "compose.yaml", "-f", "compose.s3.yaml"}, args...)
		r := cmdSpec{argv: argv, dir: p.dir, env: s3}.run()
		t.Logf("%s: exit code %d", r.cmd, r.code)
		return r
	}

	if r := backup("up"); r.code != 1 || !strings.Contains(r.stderr, "docker backup init") {
		t.Fatalf("up before init on a remote repository: want exit 1 pointing to init, got %v", r)
	}
	if r := backup("init"); r.code != 0 {
		t.Fatalf("init: %v", r)
	}
	if r := backup("up"); r.code != 0 {
		t.Fatalf("up to S3: %v", r)
	}
	by := snapshotsByService(t, repo, password, m.Env())
	for _, svc := range []string{"db", "shop", "files"} {
		if len(by[svc]) != 1 {
			t.Errorf("S3 repository: %s has %d snapshots, want 1", svc, len(by[svc]))
		}
	}
	dump := resticCmd(repo, password, m.Env(), "--no-cache", "dump", "latest", "/db.sql", "--tag", "service=db").run()
	if dump.code != 0 || !strings.Contains(dump.stdout, "note number 42") {
		t.Errorf("db.sql from S3 lacks the notes rows: %v", dump.cmd)
	}
}
