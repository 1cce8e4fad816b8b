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

// TestCopySchedule: the scheduler backs a volumes service up every 15 seconds and
// copies each up's snapshots to a MinIO copy repository right after it; status (text
// and --json) and /metrics show the copy's newest snapshot and its lag. Then the copy
// repository cannot be opened (its password file says another password): each failed copy is one
// failure notice naming it, the primary's backups still succeed and keep coming, and
// once the copy lags more than its max_lag (40s) the lag alert comes (once) and status
// exits 1.
func TestCopySchedule(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	copyPassword := passwordFile(t)
	copyRepo := m.Repo("sched-" + randomHex(3))
	p := newCopyProject(t, "copy-schedule", copyRepo, copyPassword, m.AccessKey, m.SecretKey)
	p.exec(t, "files", "sh", "-c", "echo upload > /srv/uploads/a.txt")
	repos := copyRepos{
		primary: filepath.Join(p.dir, "backups"), primaryPassword: filepath.Join(p.dir, "backups.key"),
		copy: copyRepo, copyPassword: copyPassword, copyEnv: m.Env(),
	}
	hooks := newReceiverOn(t, p.gateway(t)+":0")
	// MinIO listens on loopback: the helpers use the host's network.
	id := p.startScheduler(t, "HOOK_URL="+hooks.url+"/hook", "DOCKER_BACKUP_NETWORK=host")
	metricsURL := "http://" + p.containerIP(t, id) + ":9187/metrics"
	series := func(name, extra string) string {
		return name + "{copy=offsite," + extra + "project=" + p.name + "}"
	}

	// up, then the copy, in the same job.
	awaitLog(t, id, "schedule: copy [offsite]: ok in", 1, scheduleWait)
	primary := map[string]bool{}
	for _, s := range repos.snapshots(t, false) {
		if !slices.Contains(s.Tags, "unconfirmed") {
			primary[s.ID] = true
		}
	}
	held := repos.snapshots(t, true)
	if len(held) == 0 {
		t.Fatal("the copy holds no snapshot after a scheduled copy")
	}
	for _, s := range held {
		if !primary[s.Original] || s.service() != "files" {
			t.Errorf("copy snapshot %s (%s) is not one of the primary's confirmed snapshots: original %q", s.ID, s.service(), s.Original)
		}
	}

	// status (--json): the copy's newest snapshot, a lag within max_lag.
	run := func(args ...string) result {
		t.Helper()
		c := p.cmd(append([]string{"docker", "backup"}, args...))
		c.env = append(c.env, "DOCKER_BACKUP_NETWORK=host")
		r := c.run()
		t.Logf("%s: exit code %d", r.cmd, r.code)
		return r
	}
	type copyRow struct {
		Copy           string     `json:"copy"`
		Newest         *time.Time `json:"newest"`
		NewestSnapshot string     `json:"newest_snapshot"`
		Behind         int        `json:"behind"`
		LagSeconds     float64    `json:"lag_seconds"`
		MaxLag         string     `json:"max_lag"`
		LastStatus     string     `json:"last_status"`
		Problem        string     `json:"problem"`
	}
	status := func() ([]copyRow, result) {
		t.Helper()
		r := run("status", "--json")
		var v struct {
			Copies []copyRow `json:"copies"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("status --json: %v\n%s\n%s", err, r.stdout, r.stderr)
		}
		return v.Copies, r
	}
	rows, r := status()
	if len(rows) != 1 || rows[0].Copy != "offsite" || rows[0].Newest == nil || rows[0].NewestSnapshot == "" || rows[0].MaxLag != "40s" ||
		rows[0].LagSeconds > 40 || rows[0].Problem != "" || rows[0].LastStatus != "ok" || r.code != 0 {
		t.Errorf("status --json (exit %d): %+v\n%s", r.code, rows, r.stderr)
	}
	if txt := run("status"); !strings.Contains(txt.stdout, "COPY") || !strings.Contains(txt.stdout, "offsite") {
		t.Errorf("status: %v\n%s", txt, txt.stdout)
	} else {
		t.Logf("status:\n%s", txt.stdout)
	}
	first := scrape(t, metricsURL)
	if first[series("docker_backup_copy_newest_snapshot_timestamp_seconds", "")] == 0 ||
		first["docker_backup_copy_last_run_status{copy=offsite,project="+p.name+",status=ok}"] != 1 {
		t.Errorf("metrics after a copy: %v", first)
	}
	if _, ok := first[series("docker_backup_copy_lag_seconds", "")]; !ok {
		t.Errorf("no lag series: %v", first)
	}

	// The copy repository cannot be opened from now on: its password file says another
	// password (written in place: the scheduler's container has the file bind-mounted).
	// A revoked key or a closed port would do too, but restic retries those for up to
	// 15 minutes before it gives up.
	kept, err := os.ReadFile(copyPassword)
	if err != nil {
		t.Fatal(err)
	}
	repos.copyPassword = filepath.Join(t.TempDir(), "copy-password")
	if err := os.WriteFile(repos.copyPassword, kept, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPassword, []byte("not-"+randomHex(8)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	upsBefore := len(awaitLog(t, id, "schedule: up: ok in", 1, time.Second))
	before := len(repos.snapshots(t, false))

	var failures, lagAlerts []notice
	eventually(t, 4*time.Minute, "a copy failure notice and the lag alert", func() error {
		failures, lagAlerts = nil, nil
		for _, n := range hooks.notices(t) {
			switch {
			case n.Command != "copy":
				return fmt.Errorf("a notice that is not the copy's: %+v", n)
			case n.Service == "offsite" && n.Status == "failed" && strings.Contains(n.Error, "lags the primary"):
				lagAlerts = append(lagAlerts, n)
			case n.Service == "offsite" && n.Status == "failed":
				failures = append(failures, n)
			}
		}
		if len(failures) == 0 || len(lagAlerts) == 0 {
			return fmt.Errorf("%d failure notice(s), %d lag alert(s)", len(failures), len(lagAlerts))
		}
		return nil
	})
	t.Logf("failure notice: %+v", failures[0])
	t.Logf("lag alert: %+v", lagAlerts[0])
	if len(lagAlerts) != 1 {
		t.Errorf("%d lag alerts, want one per crossing: %+v", len(lagAlerts), lagAlerts)
	}
	// Each failed copy is one notice: as many as the log's failed copies.
	failedCopies := awaitLog(t, id, "schedule: copy [offsite]: failed", 1, time.Second)
	if len(failures) > len(failedCopies) {
		t.Errorf("%d failure notices for %d failed copies", len(failures), len(failedCopies))
	}

	// The primary's backups kept succeeding meanwhile.
	if ups := awaitLog(t, id, "schedule: up: ok in", upsBefore+1, time.Second); len(ups) <= upsBefore {
		t.Errorf("no up succeeded after the copy broke")
	}
	if after := len(repos.snapshots(t, false)); after <= before {
		t.Errorf("the primary has %d snapshots, as many as when the copy broke", after)
	}

	// status: the copy's problem, exit 1; the metrics: a lag past max_lag.
	rows, r = status()
	if r.code != 1 || len(rows) != 1 || rows[0].Problem == "" {
		t.Errorf("status --json with a refusing copy (exit %d): %+v", r.code, rows)
	}
	last := scrape(t, metricsURL)
	if lag := last[series("docker_backup_copy_lag_seconds", "")]; lag <= 40 {
		t.Errorf("lag %v after the lag alert, want more than 40", lag)
	}
	if last["docker_backup_copy_last_run_status{copy=offsite,project="+p.name+",status=failed}"] != 1 {
		t.Errorf("the last copy is not failed in the metrics: %v", last)
	}
	if hold := repos.snapshots(t, true); len(hold) < len(held) {
		t.Errorf("the copy lost snapshots: %d, had %d", len(hold), len(held))
	}
}
