//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpOpeningBesideTheBackups tries `up`'s opening that runs beside the backups of a
// plan without dumps (run.Options.Overlap): the first up of a default repository that
// does not exist yet still stores the volume's file (the backup that ran beside the
// opening, which created the repository, runs again); a wrong password is one line,
// exit code 1, and the stop: true service is never stopped (its StartedAt unchanged)
// and no snapshot is added.
func TestUpOpeningBesideTheBackups(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	repo, key := filepath.Join(p.dir, "backups"), filepath.Join(p.dir, "backups.key")
	p.exec(t, "files", "sh", "-c", "echo overlap > /srv/data/probe.txt")

	if _, err := os.Stat(repo); !os.IsNotExist(err) {
		t.Fatalf("the default repository %s exists before the first up (err %v)", repo, err)
	}
	if r := p.backup(t, "up", "files", "cache"); r.code != 0 {
		t.Fatalf("first up into a default repository that does not exist yet: %v", r)
	}
	snaps := snapshotsByService(t, repo, key, nil)["files"]
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots of files after the first up, want 1", len(snaps))
	}
	dumped := resticCmd(repo, key, nil, "--no-cache", "dump", snaps[0].ID, "/backup/files/data/probe.txt").run()
	if dumped.code != 0 || dumped.stdout != "overlap\n" {
		t.Errorf("the snapshot's probe.txt: %v, want %q", dumped, "overlap\n")
	}

	started := mustDocker(t, "inspect", "-f", "{{.State.StartedAt}}", p.container(t, "files"))
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := p.backup(t, "--password-file", wrong, "up", "files", "cache")
	if r.code != 1 {
		t.Fatalf("up with a wrong password: exit code %d, want 1: %v", r.code, r)
	}
	if msg := lines(r.stderr); len(msg) != 1 || !strings.Contains(msg[0], "wrong password") {
		t.Errorf("stderr %q, want one line saying the password is wrong", r.stderr)
	}
	if now := mustDocker(t, "inspect", "-f", "{{.State.StartedAt}}", p.container(t, "files")); now != started {
		t.Errorf("files was stopped and started again (StartedAt %s, then %s) with a wrong password", started, now)
	}
	if n := len(snapshotsByService(t, repo, key, nil)["files"]); n != 1 {
		t.Errorf("%d snapshots of files after a wrong password, want still 1", n)
	}
	p.checkRunEnded(t)
}
