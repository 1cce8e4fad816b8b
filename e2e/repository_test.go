//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpLocalRepositoryIsNotCreatedSilently: a local repository other than the default
// (say on a backup disk that is not mounted) is never created by up: up fails with one
// line pointing to init and creates nothing; after init, up stores the backup there.
func TestUpLocalRepositoryIsNotCreatedSilently(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	disk := filepath.Join(t.TempDir(), "backup-disk")
	repo := filepath.Join(disk, "restic")
	key := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(key, []byte("disk-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--repo", repo, "--password-file", key}

	r := p.backup(t, append([]string{"up", "files"}, args...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist") || !strings.Contains(r.stderr, "docker backup init") ||
		len(lines(strings.TrimSpace(r.stderr))) != 1 {
		t.Fatalf("up into a missing local repository: want exit 1 and one line pointing to init, got %v", r)
	}
	if _, err := os.Stat(disk); !os.IsNotExist(err) {
		t.Fatalf("up created %s (err %v): a missing disk must stay missing", disk, err)
	}

	if r := p.backup(t, append([]string{"init"}, args...)...); r.code != 0 {
		t.Fatalf("init: %v", r)
	}
	if r := p.backup(t, append([]string{"up", "files"}, args...)...); r.code != 0 {
		t.Fatalf("up after init: %v", r)
	}
	if n := len(snapshotsByService(t, repo, key, nil)["files"]); n != 1 {
		t.Errorf("%d snapshots of files in %s after init and up, want 1", n, repo)
	}
	p.checkRunEnded(t)
}
