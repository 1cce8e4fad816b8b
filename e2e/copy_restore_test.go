//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyRow is a row of `docker backup snapshots --from NAME --json`.
type copyRow struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Original string `json:"original"`
}

// TestRestoreFromCopy backs up PostgreSQL (a dump) and a file volume twice to the
// default local repository, copies them (docker backup copy) to a MinIO copy repository
// with its own credentials, changes the data, deletes the primary repository from disk, and then
// restores both services from the copy exactly (restore --from offsite), an older
// snapshot of the volume by the primary's snapshot ID, and drills the copy (verify
// --from offsite).
func TestRestoreFromCopy(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	copyRepo, copyKey := m.Repo("offsite-"+randomHex(3)), passwordFile(t)
	p := newPreparedProject(t, "copy-restore", func(p *project) {
		dotenv := strings.Join([]string{"E2E_COPY_REPOSITORY=" + copyRepo, "E2E_COPY_PASSWORD_FILE=" + copyKey,
			"E2E_COPY_ACCESS_KEY=" + m.AccessKey, "E2E_COPY_SECRET_KEY=" + m.SecretKey, ""}, "\n")
		if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte(dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	// MinIO listens on loopback: the helpers reach it with host networking.
	hostNet := []string{"DOCKER_BACKUP_NETWORK=host"}
	must := func(args ...string) result {
		t.Helper()
		r := p.backupEnv(t, hostNet, args...)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		return r
	}
	primary, primaryKey := filepath.Join(p.dir, "backups"), filepath.Join(p.dir, "backups.key")
	uploads := p.volume(t, "uploads")

	// State A, backed up; then state B, backed up: both are copied.
	p.pgSQL(t, "db", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 50) g;")
	p.exec(t, "files", "sh", "-c", filesSeed)
	treeA := volumeTree(t, uploads)
	must("up")
	p.pgSQL(t, "db", "INSERT INTO notes SELECT g, 'later ' || g FROM generate_series(51, 80) g; UPDATE notes SET body = 'edited' WHERE id = 3;")
	p.exec(t, "files", "sh", "-c", filesDamage)
	pgB, treeB := p.pgRows(t, "db"), volumeTree(t, uploads)
	if treeB == treeA {
		t.Fatal("the second state of files equals the first")
	}
	must("up")
	filesSnaps := p.serviceSnapshots(t, "files")
	if len(filesSnaps) != 2 {
		t.Fatalf("the primary holds %d snapshots of files, want 2", len(filesSnaps))
	}
	// docker backup copy: the confirmed snapshots, into the copy it creates.
	must("copy")
	var copied []string
	for _, s := range snapshots(t, primary, primaryKey) {
		if !s.has("unconfirmed") {
			copied = append(copied, s.ID)
		}
	}
	if len(copied) != 4 {
		t.Fatalf("the primary holds %d confirmed snapshots, want 4 (two ups of db and files)", len(copied))
	}

	// snapshots --from lists the copy's snapshots with the primary's IDs they came from.
	r := must("snapshots", "--from", "offsite", "--json")
	var rows []copyRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("snapshots --from --json: %v\n%s", err, r.stdout)
	}
	var originals []string
	for _, row := range rows {
		if slices.Contains(copied, row.ID) {
			t.Errorf("copy snapshot %s has the primary's ID", row.ID)
		}
		originals = append(originals, row.Original)
	}
	slices.Sort(originals)
	if want := slices.Sorted(slices.Values(copied)); !slices.Equal(originals, want) {
		t.Errorf("snapshots --from offsite lists copies of %q, want of %q", originals, want)
	}

	// State C; then the primary is gone.
	p.pgSQL(t, "db", "INSERT INTO notes VALUES (999, 'damage'); DELETE FROM notes WHERE id < 10;")
	p.exec(t, "files", "sh", "-c", "rm -rf /srv/uploads/docs && echo c > /srv/uploads/c-only")
	if err := os.RemoveAll(primary); err != nil {
		t.Fatal(err)
	}

	// An unknown copy: one line naming x-backup.copies and the copies, exit code 2.
	r = p.backupEnv(t, hostNet, "restore", "--from", "elsewhere", "--yes", "db")
	if msg := lines(r.stderr); r.code != 2 || len(msg) != 1 || !strings.Contains(msg[0], "x-backup.copies") || !strings.Contains(msg[0], "offsite") {
		t.Errorf("restore --from elsewhere: want exit code 2 and one line naming x-backup.copies and offsite: %v", r)
	}

	must("restore", "--from", "offsite", "--yes", "db", "files")
	if got := p.pgRows(t, "db"); got != pgB {
		t.Errorf("postgres after restore --from offsite: %s, want %s", got, pgB)
	}
	if got := volumeTree(t, uploads); got != treeB {
		t.Errorf("files after restore --from offsite:\n%s\nwant:\n%s", got, treeB)
	}

	// The primary's ID of the first snapshot of files selects its copy.
	must("restore", "--from", "offsite", "--yes", "files@"+filesSnaps[0].ID[:8])
	if got := volumeTree(t, uploads); got != treeA {
		t.Errorf("files after restore --from offsite files@%s (the primary's ID):\n%s\nwant:\n%s", filesSnaps[0].ID[:8], got, treeA)
	}

	// The drill of the copy passes, for both services.
	r = must("verify", "--from", "offsite")
	drills := verifyTable(t, r)
	for _, svc := range []string{"db", "files"} {
		if row := verifyRowOf(t, drills, svc, r); row.result != "ok" {
			t.Errorf("verify --from offsite: %s is %s: %s", svc, row.result, row.detail)
		}
	}

	// Nothing read or recreated the primary.
	if _, err := os.Stat(primary); !os.IsNotExist(err) {
		t.Errorf("the deleted primary repository %s is back (%v)", primary, err)
	}
}
