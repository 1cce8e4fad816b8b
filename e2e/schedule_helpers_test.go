//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
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
// extraEnv is --print's environment and goes into the project's .env too: --print
// never writes a variable that feeds a secret (a notify or healthcheck URL), which the
// scheduler reads from .env.
func (p *project) startScheduler(t *testing.T, extraEnv ...string) string {
	t.Helper()
	if len(extraEnv) > 0 {
		f, err := os.OpenFile(filepath.Join(p.dir, ".env"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(strings.Join(extraEnv, "\n") + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c := p.cmd([]string{"docker", "backup", "schedule", "--print"})
	c.env = append(c.env, extraEnv...)
	r := c.run()
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

// gateway is the host's address on the project's default network: what its containers
// reach the host at.
func (p *project) gateway(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(mustDocker(t, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", p.name+"_default"))
}

// containerIP is a container's address on the project's default network.
func (p *project) containerIP(t *testing.T, id string) string {
	t.Helper()
	return strings.TrimSpace(mustDocker(t, "inspect", "--format", `{{(index .NetworkSettings.Networks "`+p.name+`_default").IPAddress}}`, id))
}

// scrape gets the scheduler's /metrics and parses it.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scraping %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: %s", url, resp.Status)
	}
	return promText(t, resp.Body)
}
