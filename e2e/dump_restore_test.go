//go:build e2e

package e2e

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restoreBound is far longer than a healthy failing restore takes (seconds) and far
// shorter than the hang it guards against.
const restoreBound = 2 * time.Minute

// TestRestoreDumpEndsWhenEitherSideFails: a restore command that exits at once while
// the dump still streams ends the restore with exit 1 and the command's stderr, and
// Ctrl-C during a restore whose command reads nothing ends it with 130; neither leaves
// a helper behind.
func TestRestoreDumpEndsWhenEitherSideFails(t *testing.T) {
	t.Parallel()
	p := newProject(t, "dump-restore")
	p.mustBackup(t, "up", "blob")

	t.Run("the restore command exits at once", func(t *testing.T) {
		s := p.start(t, nil, "docker", "backup", "restore", "blob", "--yes")
		r := s.wait(t, restoreBound)
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "restore refuses this") {
			t.Errorf("want exit 1 with the restore command's stderr, got %v", r)
		}
		p.checkRunEnded(t)
	})

	t.Run("Ctrl-C while the restore command reads nothing", func(t *testing.T) {
		s := p.start(t, nil, pluginBin(), "-f", "compose.yaml", "-f", "compose.slow.yaml", "restore", "blob", "--yes")
		eventually(t, restoreBound, "the restore command to start", func() error {
			if r := p.tryExec(t, "blob", "", "test", "-e", "/tmp/restore-started"); r.code != 0 {
				return errors.New("not yet")
			}
			return nil
		})
		s.signal(t, syscall.SIGINT)
		r := s.wait(t, restoreBound)
		if r.code != 130 {
			t.Errorf("want exit 130 after Ctrl-C, got %v", r)
		}
		if ps := p.processes(t, "blob"); strings.Contains(ps, "sleep 120") {
			t.Errorf("the restore command still runs in blob after Ctrl-C:\n%s", ps)
		}
		p.checkRunEnded(t)
	})
}
