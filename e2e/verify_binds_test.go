//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyBinds: issue 20's smaller ones about binds and selectors. The drill of a
// volumes service with a bind-mounted file restores the file too, and its check reads
// the backed-up file at the service's path (not the live one, changed since); a
// throwaway copy of a service that mounts the engine's socket and a device, read-only,
// has neither, but keeps its read-only configuration file; restore with a malformed
// snapshot selector exits 2 with one line, a well-formed ID that no snapshot has 1.
func TestVerifyBinds(t *testing.T) {
	t.Parallel()
	p := newProject(t, "verify-binds")
	p.exec(t, "files", "sh", "-c", "mkdir -p /data/docs && printf 'hello\\n' > /data/docs/readme.txt")
	p.pgSQL(t, "pg", "CREATE TABLE notes (id int PRIMARY KEY); INSERT INTO notes VALUES (1), (2);")
	p.mustBackup(t, "up")
	// The live file changes after the backup (in place: the bind mount sees it).
	if err := os.WriteFile(filepath.Join(p.dir, "app.conf"), []byte("token=live-after-the-backup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := p.exec(t, "files", "cat", "/etc/app.conf"); !strings.Contains(got, "live-after-the-backup") {
		t.Fatalf("the live service sees %q in /etc/app.conf, want the changed file", got)
	}
	live := p.containers(t)
	liveEvents := recordContainerEvents(t, "label=com.docker.compose.project="+p.name)

	t.Run("the drill of a bind-mounted file restores it and its check reads it", func(t *testing.T) {
		r, since, until := p.timedBackup(t, "verify", "files", "--json")
		if r.code != 0 {
			t.Fatalf("want exit code 0, got %v", r)
		}
		e, ok := p.verifyJSON(t, r)["files"]
		// readme.txt (6 bytes) and app.conf (16 bytes), both counted and verified (restic's
		// count of files and folders: their folders too); the check's line is the
		// backed-up app.conf.
		if !ok || e.Result != "ok" || e.Snapshot != p.latestSnapshot(t, "files") ||
			!strings.Contains(e.Detail, " files and folders, 22 bytes restored and verified") || !strings.HasSuffix(e.Detail, "; token=backed-up") {
			t.Errorf("files in verify --json: %+v; want ok, 22 bytes, and the check's line token=backed-up\n%v", e, r)
		}
		p.checkDrillEnded(t)
		checkLiveUntouched(t, liveEvents, live, since, until)
	})

	t.Run("a throwaway copy has no socket and no device, and keeps its configuration file", func(t *testing.T) {
		r, since, until := p.timedBackup(t, "verify", "pg", "--keep")
		if r.code != 0 {
			t.Fatalf("want exit code 0, got %v", r)
		}
		kept := lines(mustDocker(t, "ps", "-aq", "--no-trunc", "--filter", "label="+labelKind+"=verify", "--filter", "label="+labelProject+"="+p.name))
		if len(kept) != 1 {
			t.Fatalf("want one throwaway copy of pg kept, got %q", kept)
		}
		copyID := kept[0]
		mounts := map[string]string{}
		for _, l := range lines(mustDocker(t, "inspect", "--format", `{{range .Mounts}}{{.Destination}} {{.Type}} {{.Source}} rw={{.RW}}{{"\n"}}{{end}}`, copyID)) {
			dst, rest, _ := strings.Cut(l, " ")
			mounts[dst] = rest
		}
		for _, gone := range []string{"/var/run/docker.sock", "/srv/zero"} {
			if m, ok := mounts[gone]; ok {
				t.Errorf("the copy mounts %s (%s): want it left out", gone, m)
			}
		}
		if want := "bind " + filepath.Join(p.dir, "pg.note") + " rw=false"; mounts["/etc/pg.note"] != want {
			t.Errorf("the copy's /etc/pg.note is %q, want %q (all: %v)", mounts["/etc/pg.note"], want, mounts)
		}
		if st := state(t, copyID); st == "running" {
			// Nothing at the socket's path in the copy: the image has no such file.
			if rr := runDocker(t, "exec", copyID, "test", "-e", "/var/run/docker.sock"); rr.code == 0 {
				t.Errorf("the copy has /var/run/docker.sock")
			}
			if got := mustDocker(t, "exec", copyID, "cat", "/etc/pg.note"); !strings.Contains(got, "configuration file the copy keeps") {
				t.Errorf("the copy's /etc/pg.note holds %q", got)
			}
		} else {
			t.Errorf("the kept copy is %s, want running", st)
		}
		checkLiveUntouched(t, liveEvents, live, since, until)
		// The lines verify printed remove what it kept.
		for _, l := range lines(r.stdout + "\n" + r.stderr) {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "docker rm ") || strings.HasPrefix(l, "docker volume rm ") {
				if rr := (cmdSpec{argv: []string{"sh", "-c", l}}).run(); rr.code != 0 {
					t.Errorf("running verify's line %q: %v", l, rr)
				}
			}
		}
		p.checkDrillEnded(t)
	})

	t.Run("a malformed snapshot selector is bad input", func(t *testing.T) {
		for sel, want := range map[string]string{
			"files@zzzz":       `files@zzzz: "zzzz" is not latest, a snapshot ID or a date`,
			"files@2026-13-45": `files@2026-13-45: "2026-13-45" is not a date or time that exists`,
		} {
			r := p.backup(t, "restore", "--yes", sel)
			errLines := lines(r.stderr)
			if r.code != 2 || len(errLines) != 1 || !strings.Contains(errLines[0], want) {
				t.Errorf("restore %s: want exit code 2 and one line with %q, got %v", sel, want, r)
			}
		}
		// Well-formed, but no snapshot has that ID: not bad input, a failed lookup.
		r := p.backup(t, "restore", "--yes", "files@abcdef12")
		if r.code != 1 || !strings.Contains(r.stderr, "abcdef12") {
			t.Errorf("restore files@abcdef12: want exit code 1 naming the ID, got %v", r)
		}
		if got := p.exec(t, "files", "cat", "/data/docs/readme.txt"); got != "hello\n" {
			t.Errorf("the live files changed: %q", got)
		}
	})
}
