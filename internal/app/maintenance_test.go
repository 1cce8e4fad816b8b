package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// forget whose lock someone else holds exits 1 (applying the retention is its whole
// job) with one line naming the service, the holder, and that the next run applies it.
func TestForgetUnderALockNamesTheHolder(t *testing.T) {
	f, _ := metricsFixture(t)
	compose, err := os.ReadFile(filepath.Join(f.dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withRetention := strings.Replace(string(compose), "x-backup:\n", "x-backup:\n  retention: {keep_last: 3}\n", 1)
	if err := os.WriteFile(filepath.Join(f.dir, "compose.yaml"), []byte(withRetention), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newAnchorRestic(f)
	a.replies["forget"] = enginetest.Reply{Stderr: "unable to create lock in backend: repository is already locked by PID 46 on monitor by root (UID 0, GID 0)\nlock was created at 2026-01-10 10:00:00 (2.1s ago)\n", Code: 11}
	err = f.run("forget")
	if code := exitCode(context.Background(), err); code != ExitFailure {
		t.Fatalf("forget under a lock: exit code %d (%v), want %d", code, err, ExitFailure)
	}
	for _, part := range []string{"retention of app not applied", "the next forget or up applies it", "a lock is held by PID 46 on host monitor, created 2s ago", "--retry-lock"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
}
