//go:build e2e

package e2e

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestoreDatabases backs up PostgreSQL and MariaDB twice, damages them, and
// restores the latest snapshot, an older one by ID prefix and by time, and one into a
// scratch server with --to.
func TestRestoreDatabases(t *testing.T) {
	t.Parallel()
	p := newProject(t, "restore-db")
	p.pgSQL(t, "db", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 50) g;")
	p.mariaSQL(t, "CREATE TABLE items (id int PRIMARY KEY, name varchar(40)); INSERT INTO items VALUES (1, 'one'), (2, 'two');")
	p.mustBackup(t, "up", "db", "shop")
	pgOld, mariaOld := p.pgRows(t, "db"), p.mariaRows(t)

	p.pgSQL(t, "db", "INSERT INTO notes SELECT g, 'later ' || g FROM generate_series(51, 80) g; UPDATE notes SET body = 'edited' WHERE id = 3;")
	p.mariaSQL(t, "INSERT INTO items VALUES (3, 'three'); UPDATE items SET name = 'uno' WHERE id = 1;")
	p.mustBackup(t, "up", "db", "shop")
	pgNew, mariaNew := p.pgRows(t, "db"), p.mariaRows(t)
	if pgNew == pgOld || mariaNew == mariaOld {
		t.Fatalf("the second state equals the first: %s / %s", pgNew, mariaNew)
	}

	damage := func() {
		p.pgSQL(t, "db", "INSERT INTO notes VALUES (999, 'damage'); CREATE TABLE junk (x int); DROP TABLE notes;")
		p.mariaSQL(t, "INSERT INTO items VALUES (999, 'damage'); DROP TABLE items;")
	}
	damage()
	r := p.mustBackup(t, "restore", "db", "shop@latest", "--yes")
	if got := p.pgRows(t, "db"); got != pgNew {
		t.Errorf("postgres after restore latest: %s, want %s\n%s", got, pgNew, r.stdout)
	}
	if got := p.mariaRows(t); got != mariaNew {
		t.Errorf("mariadb after restore latest: %s, want %s", got, mariaNew)
	}

	// An older snapshot, by ID prefix (postgres) and by time (mariadb).
	damage()
	pgSnaps, mariaSnaps := p.serviceSnapshots(t, "db"), p.serviceSnapshots(t, "shop")
	if len(pgSnaps) != 2 || len(mariaSnaps) != 2 {
		t.Fatalf("want two snapshots of each service, got %d and %d", len(pgSnaps), len(mariaSnaps))
	}
	between := mariaSnaps[0].Time.Add(mariaSnaps[1].Time.Sub(mariaSnaps[0].Time) / 2)
	p.mustBackup(t, "restore", "--yes", "db@"+pgSnaps[0].ID[:7], "shop@"+between.Format(time.RFC3339Nano))
	if got := p.pgRows(t, "db"); got != pgOld {
		t.Errorf("postgres after restore by ID prefix: %s, want %s", got, pgOld)
	}
	if got := p.mariaRows(t); got != mariaOld {
		t.Errorf("mariadb after restore by time: %s, want %s", got, mariaOld)
	}

	// --to: the latest dump of db into the scratch server; db keeps its older state.
	p.mustBackup(t, "restore", "db", "--to", "scratch", "--yes")
	if got := p.pgRows(t, "scratch"); got != pgNew {
		t.Errorf("scratch after restore --to: %s, want %s", got, pgNew)
	}
	if got := p.pgRows(t, "db"); got != pgOld {
		t.Errorf("db changed by restore --to scratch: %s, want %s", got, pgOld)
	}

	// A snapshot of another service is refused, naming its owner.
	r = p.backup(t, "restore", "shop@"+pgSnaps[0].ID[:8], "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "service db") {
		t.Errorf("want exit code 1 naming service db: %v", r)
	}
}

const filesSeed = `set -e; cd /srv/uploads
mkdir -p docs/deep/deeper empty/inner-empty private
printf 'hello\n' > docs/readme.txt
head -c 200000 /dev/urandom > docs/deep/deeper/blob.bin
printf 'secret\n' > private/key && chmod 600 private/key && chown 1001:1002 private/key
printf '#!/bin/sh\n' > docs/run.sh && chmod 755 docs/run.sh && chown 33:33 docs/run.sh
chmod 700 private && chown 1001:1002 private
chmod 1777 empty
ln -s docs/readme.txt current
ln -s ../missing docs/dangling`

const filesDamage = `set -e; cd /srv/uploads
rm -rf docs/deep empty current
printf 'changed\n' > docs/readme.txt
chmod 644 private/key && chown 0:0 private/key
echo new > new-file`

// TestRestoreVolume backs up a tree with folders, links, empty folders, owners and
// modes, damages it, restores it, and compares the whole tree; then restores a snapshot
// that does not exist, which must change nothing; then one into a new volume with --to.
func TestRestoreVolume(t *testing.T) {
	t.Parallel()
	p := newProject(t, "restore-files")
	p.exec(t, "files", "sh", "-c", filesSeed)
	live := p.volume(t, "uploads")
	want := volumeTree(t, live)
	p.mustBackup(t, "up", "files")

	p.exec(t, "files", "sh", "-c", filesDamage)
	if volumeTree(t, live) == want {
		t.Fatal("the damage changed nothing")
	}
	r := p.mustBackup(t, "restore", "files", "--yes")
	if got := volumeTree(t, live); got != want {
		t.Errorf("tree after restore:\n%s\nwant:\n%s", got, want)
	}
	if st := p.serviceState(t, "files"); st != "running" {
		t.Errorf("service is %s after restore", st)
	}
	if !strings.Contains(r.stdout, live+"-rollback-") {
		t.Errorf("the closing message names no rollback volume:\n%s", r.stdout)
	}

	// A snapshot that does not exist: exit 1, live volume unchanged, service running.
	p.exec(t, "files", "sh", "-c", "echo after > /srv/uploads/after.txt")
	before := volumeTree(t, live)
	r = p.backup(t, "restore", "files@deadbeef", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "deadbeef") {
		t.Errorf("want exit code 1 naming the snapshot: %v", r)
	}
	if got := volumeTree(t, live); got != before {
		t.Errorf("the live volume changed:\n%s\nwant:\n%s", got, before)
	}
	if st := p.serviceState(t, "files"); st != "running" {
		t.Errorf("service is %s after a failed restore", st)
	}

	// --to a new volume, side by side: the live volume keeps after.txt.
	copyName := p.name + "-copy"
	t.Cleanup(func() { runDocker(t, "volume", "rm", "-f", copyName) })
	p.mustBackup(t, "restore", "files", "--to", copyName, "--yes")
	if got := volumeTree(t, copyName); got != want {
		t.Errorf("tree of the --to volume:\n%s\nwant:\n%s", got, want)
	}
	if got := volumeTree(t, live); got != before {
		t.Errorf("restore --to changed the live volume")
	}
	r = p.backup(t, "restore", "files", "--to", live, "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("want --to a volume with data refused: %v", r)
	}
}

// TestRestoreInterrupted kills the plugin while its helper restores into staging: the
// service has never stopped (it is stopped for the swap only), the live volume is
// unchanged, and the next restore goes through.
func TestRestoreInterrupted(t *testing.T) {
	t.Parallel()
	p := newProject(t, "restore-files")
	p.exec(t, "files", "sh", "-c", "cd /srv/uploads && for i in 1 2 3 4 5 6; do head -c 40000000 /dev/urandom > big$i; done && echo small > small")
	live := p.volume(t, "uploads")
	p.mustBackup(t, "up", "files")
	p.exec(t, "files", "sh", "-c", "echo changed > /srv/uploads/small")
	before := volumeTree(t, live)
	started := mustDocker(t, "inspect", "-f", "{{.State.StartedAt}}", p.container(t, "files"))

	plugin := filepath.Join(filepath.Dir(env.dockerConfig), "cli-plugins", "docker-backup")
	cmd := p.startBackup(t, plugin, "restore", "files", "--yes")
	helper := p.waitHelper(t, "restore")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if st := p.serviceState(t, "files"); st != "running" {
		t.Fatalf("the service is %s while the restore helper works: it must run until the swap", st)
	}
	eventually(t, helperWait, "the orphaned restore helper to finish", func() error {
		if s := state(t, helper); s == "running" {
			return errors.New(s)
		}
		return nil
	})
	if got := volumeTree(t, live); got != before {
		t.Errorf("the live volume changed after the plugin was killed")
	}
	if now := mustDocker(t, "inspect", "-f", "{{.State.StartedAt}}", p.container(t, "files")); now != started {
		t.Errorf("the service was stopped or restarted by a restore killed before its swap (started %s, now %s)", started, now)
	}

	p.mustBackup(t, "restore", "files", "--yes")
	if st := p.serviceState(t, "files"); st != "running" {
		t.Errorf("service is %s after the next restore", st)
	}
	if got := p.exec(t, "files", "cat", "/srv/uploads/small"); got != "small\n" {
		t.Errorf("small = %q after the next restore", got)
	}
	if left := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label=io.docker-backup.staging")); len(left) > 0 {
		for _, v := range left {
			if strings.Contains(v, p.name) {
				t.Errorf("staging volume %s left behind", v)
			}
		}
	}
}
