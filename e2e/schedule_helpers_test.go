//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// schedulerService is the name --print gives the scheduler's service.
const schedulerService = "docker-backup"

// startScheduler writes the scheduler service with `docker backup schedule --print`
// into compose.backup.yaml and brings it up with compose as an extra file, as the
// README says; it returns the scheduler's container. Cleanup logs what it printed.
func (p *project) startScheduler(t *testing.T) string {
	t.Helper()
	r := p.backup(t, "schedule", "--print")
	if r.code != 0 {
		t.Fatalf("schedule --print: %v", r)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "compose.backup.yaml"), []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := p.compose(t, "-f", "compose.yaml", "-f", "compose.backup.yaml", "up", "-d", schedulerService); r.code != 0 {
		t.Fatalf("starting the scheduler: %v\n%s", r, r.stdout)
	}
	id := p.container(t, schedulerService)
	t.Cleanup(func() { t.Logf("the scheduler's log:\n%s", schedulerLog(t, id)) })
	return id
}

// schedulerLog is what the scheduler printed so far, stdout and stderr.
func schedulerLog(t *testing.T, id string) string {
	t.Helper()
	r := cmdSpec{argv: []string{"docker", "logs", id}}.run()
	return r.stdout + r.stderr
}

// awaitLog waits until the scheduler's log holds n lines containing want; it returns
// those lines.
func awaitLog(t *testing.T, id, want string, n int, timeout time.Duration) []string {
	t.Helper()
	var found []string
	eventually(t, timeout, "the scheduler to log "+want, func() error {
		found = nil
		for _, l := range lines(schedulerLog(t, id)) {
			if strings.Contains(l, want) {
				found = append(found, l)
			}
		}
		if len(found) < n {
			return fmt.Errorf("%d of %d so far", len(found), n)
		}
		return nil
	})
	return found
}
