//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProjectFolderBind: a bind mount of the project folder holds the repository, its
// key and the compose file. plan refuses it with one line; with those excluded, a
// backup leaves them out and a restore of an older snapshot brings the data back while
// the repository keeps all its snapshots and the newer compose file stays.
func TestProjectFolderBind(t *testing.T) {
	t.Parallel()
	p := newProject(t, "project-folder")

	r := p.backup(t, "plan")
	if r.code != 2 || !strings.Contains(r.stderr, "services.app.x-backup.volumes: bind mount "+p.dir+" (at /app) holds the backup repository (/app/backups)") {
		t.Fatalf("plan: %v, want exit code 2 naming the mount and the repository", r)
	}
	if n := len(lines(r.stderr)); n != 1 {
		t.Errorf("plan printed %d lines on stderr, want one:\n%s", n, r.stderr)
	}

	excluded := []string{"-f", "compose.excluded.yaml"}
	p.exec(t, "app", "sh", "-c", "echo one > /app/data.txt")
	p.mustBackup(t, append(excluded, "up")...)
	first := p.serviceSnapshots(t, "app")
	if len(first) != 1 {
		t.Fatalf("snapshots of app after the first up: %v", first)
	}
	repo, key := p.localRepo()
	ls := hostRestic(repo, key, "ls", first[0].ID).run()
	if ls.code != 0 || !strings.Contains(ls.stdout, "/backup/app/app/data.txt") {
		t.Fatalf("listing the snapshot: %v", ls)
	}
	for _, own := range []string{"/backup/app/app/backups", "/backup/app/app/backups.key", "/backup/app/app/compose.excluded.yaml"} {
		if strings.Contains(ls.stdout, own+"\n") {
			t.Errorf("the snapshot holds %s", own)
		}
	}

	p.exec(t, "app", "sh", "-c", "echo two > /app/data.txt")
	composeFile := filepath.Join(p.dir, "compose.excluded.yaml")
	newer := appendFile(t, composeFile, "# a newer compose file\n")
	keyBefore := readFile(t, key)
	p.mustBackup(t, append(excluded, "up")...)

	p.mustBackup(t, append(excluded, "restore", "app@"+first[0].ID, "--yes")...)
	if got := p.exec(t, "app", "cat", "/app/data.txt"); got != "one\n" {
		t.Errorf("data.txt after the restore: %q, want one", got)
	}
	if got := p.serviceSnapshots(t, "app"); len(got) != 2 {
		t.Errorf("snapshots of app after the restore: %d, want the 2 made (the live repository was replaced)", len(got))
	}
	if c := hostRestic(repo, key, "check").run(); c.code != 0 {
		t.Errorf("restic check after the restore: %v", c)
	}
	if got := readFile(t, composeFile); got != newer {
		t.Errorf("the compose file after the restore:\n%s\nwant the newer one", got)
	}
	if got := readFile(t, key); got != keyBefore {
		t.Error("the repository's key file changed")
	}
	p.checkRunEnded(t)
}

// appendFile appends s to a file and returns its new content.
func appendFile(t *testing.T, name, s string) string {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return readFile(t, name)
}

// readFile returns a file's content.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
