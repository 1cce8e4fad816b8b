//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// recoverServices are schedule-recover's services: copied one at a time, each held in
// its pre hook while its /tmp/hold exists.
var recoverServices = []string{"safe", "vault"}

// newRecoverProject brings up schedule-recover with the test's webhook and healthcheck
// receivers named in its .env (which the scheduler reads in the project folder), and
// starts its scheduler.
func newRecoverProject(t *testing.T) (p *project, scheduler string, hooks, pings *receiver) {
	t.Helper()
	p = newProject(t, "schedule-recover")
	gw := p.gateway(t)
	hooks, pings = newReceiverOn(t, gw+":0"), newReceiverOn(t, gw+":0")
	env := "HOOK_URL=" + hooks.url + "/hook\nHC_URL=" + pings.url + "/ping/e2e\n"
	if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, p.startScheduler(t), hooks, pings
}

// firstBegun waits for the scheduled run to begin a service (its pre hook then holds
// it) and returns it and the service not begun.
func firstBegun(t *testing.T, id string) (begun, other string) {
	t.Helper()
	eventually(t, 90*time.Second, "a scheduled run to begin a service", func() error {
		for _, l := range lines(schedulerLog(t, id)) {
			for _, svc := range recoverServices {
				if strings.Contains(l, svc+": backing up") {
					begun = svc
					return nil
				}
			}
		}
		return fmt.Errorf("none yet")
	})
	other = recoverServices[0]
	if other == begun {
		other = recoverServices[1]
	}
	return begun, other
}

// statusRow is a service's row of `status --json`.
type statusRow struct {
	Service      string     `json:"service"`
	LastStatus   string     `json:"last_status"`
	LastError    string     `json:"last_error"`
	StartedAgain *time.Time `json:"started_again"`
}

// statusRows runs `status --json` from the host and returns its rows by service.
func (p *project) statusRows(t *testing.T) map[string]statusRow {
	t.Helper()
	r := p.backup(t, "status", "--json")
	if r.code != 0 {
		t.Fatalf("status --json: %v", r)
	}
	var v struct {
		Services []statusRow `json:"services"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	rows := map[string]statusRow{}
	for _, s := range v.Services {
		rows[s.Service] = s
	}
	return rows
}

// TestSchedulerKilledRecovers: the scheduler is killed (docker kill) while a `stop:
// true` service is stopped for its copy; once started again it recovers before any
// tick (its schedule is now a day away): the service runs again within 30 s, the log
// says what recovery did, and `status` shows the run interrupted, with the service
// that was left stopped and when it was started again.
func TestSchedulerKilledRecovers(t *testing.T) {
	t.Parallel()
	p, id, hooks, pings := newRecoverProject(t)
	begun, other := firstBegun(t, id)
	p.exec(t, begun, "sh", "-c", "head -c 512M /dev/urandom > /data/big")
	// The next scheduler must owe the service's start to its recovery, not to a tick:
	// the schedule is read as the scheduler starts.
	compose := filepath.Join(p.dir, "compose.yaml")
	data, err := os.ReadFile(compose)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(compose, []byte(strings.Replace(string(data), `"@every 10s"`, `"0 3 1 1 *"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stopped := p.container(t, begun)
	p.exec(t, begun, "rm", "/tmp/hold")
	eventually(t, time.Minute, begun+" stopped for its copy", func() error {
		if s := state(t, stopped); s != "exited" {
			return fmt.Errorf("%s is %s", begun, s)
		}
		return nil
	})
	p.waitHelper(t, "backup")

	mustDocker(t, "kill", id)
	killed := time.Now()
	if s := state(t, stopped); s != "exited" {
		t.Fatalf("%s is %s once the scheduler is killed, want exited (the copy ended too soon)", begun, s)
	}
	mustDocker(t, "start", id)
	eventually(t, 30*time.Second, begun+" running again", func() error {
		if s := state(t, stopped); s != "running" {
			return fmt.Errorf("%s is %s", begun, s)
		}
		return nil
	})
	t.Logf("%s runs again %s after the kill", begun, time.Since(killed).Round(100*time.Millisecond))
	awaitLog(t, id, "recovered: "+begun+" started again at", 1, 30*time.Second)
	log := schedulerLog(t, id)
	if !strings.Contains(log, "up started at") || !strings.Contains(log, "was interrupted: the scheduler died during the run") ||
		!strings.Contains(log, "recovery: started container "+stopped[:12]+" again") {
		t.Errorf("the log does not say what recovery found and did:\n%s", log)
	}

	rows := p.statusRows(t)
	if r := rows[begun]; r.LastStatus != "interrupted" || r.StartedAgain == nil || r.StartedAgain.Before(killed) {
		t.Errorf("status of %s = %+v, want interrupted and started again after the kill", begun, r)
	}
	if r := rows[other]; r.LastStatus != "" {
		t.Errorf("status of %s, never begun by any run = %+v", other, r)
	}
	st := p.backup(t, "status")
	if !strings.Contains(st.stdout, "interrupted run: up of ") || !strings.Contains(st.stdout, begun+" started again at") ||
		!strings.Contains(st.stdout, "left stopped, started again") {
		t.Errorf("status does not show the interrupted run:\n%s", st.stdout)
	}
	t.Logf("status:\n%s", st.stdout)

	// The run that never ended is told as interrupted: no failure, no /fail ping.
	eventually(t, 10*time.Second, "the interrupted run's notices", func() error {
		for _, n := range hooks.notices(t) {
			if n.Service == begun && n.Status == "interrupted" {
				return nil
			}
		}
		return fmt.Errorf("notices %+v", hooks.notices(t))
	})
	for _, n := range hooks.notices(t) {
		if n.Status == "failed" {
			t.Errorf("a failure notice: %+v", n)
		}
	}
	for _, r := range pings.requests() {
		if strings.HasSuffix(r.path, "/fail") {
			t.Errorf("a /fail ping: %+v", r)
		}
	}
	mustDocker(t, "stop", id)
	p.checkRunEnded(t)
	repo, key := p.localRepo()
	if snaps := snapshots(t, repo, key, "--no-lock"); len(snaps) != 0 {
		t.Errorf("the killed run left snapshots: %v", snapshotIDs(snaps))
	}
}

// TestSchedulerStoppedInterrupted: `docker stop` of the scheduler while one service is
// under way (held in its pre hook) and the other not begun: the scheduler exits 0, logs
// one line without a cancelled context's noise, and status and the notices say the
// first interrupted and the second skipped (not begun), never failed; the healthcheck
// gets its start, then the summary on its log endpoint, and no /fail.
func TestSchedulerStoppedInterrupted(t *testing.T) {
	t.Parallel()
	p, id, hooks, pings := newRecoverProject(t)
	begun, other := firstBegun(t, id)
	if r := runDocker(t, "stop", id); r.code != 0 {
		t.Fatalf("docker stop: %v", r)
	}
	if code := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.State.ExitCode}}", id)); code != "0" {
		t.Errorf("the scheduler exited %s, want 0", code)
	}
	line := awaitLog(t, id, "schedule: up: interrupted in", 1, 10*time.Second)[0]
	if !strings.Contains(line, "stopped before its end: "+begun+" interrupted; "+other+" not begun") {
		t.Errorf("log line %q, want %s interrupted and %s not begun", line, begun, other)
	}
	log := schedulerLog(t, id)
	if strings.Contains(log, "context canceled") || strings.Contains(log, "FAILED") {
		t.Errorf("the log holds a cancelled context's noise:\n%s", log)
	}

	rows := p.statusRows(t)
	if r := rows[begun]; r.LastStatus != "interrupted" || r.LastError != "" {
		t.Errorf("status of %s = %+v, want interrupted", begun, r)
	}
	if r := rows[other]; r.LastStatus != "skipped" || !strings.Contains(r.LastError, "not begun") {
		t.Errorf("status of %s = %+v, want skipped, not begun", other, r)
	}

	var got, want []string
	eventually(t, 10*time.Second, "the stopped run's notices", func() error {
		got = nil
		for _, n := range hooks.notices(t) {
			got = append(got, n.Service+"="+n.Status)
		}
		slices.Sort(got)
		if len(got) < 3 {
			return fmt.Errorf("notices %v", got)
		}
		return nil
	})
	want = []string{"=interrupted", begun + "=interrupted", other + "=skipped"}
	if slices.Sort(want); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
	var paths []string
	for _, r := range pings.requests() {
		paths = append(paths, r.path)
		if r.path == "/ping/e2e/log" && (!strings.Contains(r.body, "up INTERRUPTED: ") || !strings.Contains(r.body, begun+" interrupted") || !strings.Contains(r.body, other+" not begun")) {
			t.Errorf("log ping body %q", r.body)
		}
	}
	if !slices.Equal(paths, []string{"/ping/e2e/start", "/ping/e2e/log"}) {
		t.Errorf("healthcheck pings %v, want start, then log", paths)
	}
	for _, svc := range recoverServices {
		if s := state(t, p.container(t, svc)); s != "running" {
			t.Errorf("%s is %s after the scheduler stopped", svc, s)
		}
	}
	p.checkRunEnded(t)
}
