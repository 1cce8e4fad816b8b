//go:build e2e

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// scheduleWait bounds the wait for a scheduled job to run (a tick is skipped while
// another job runs), under the load of the tests that run beside it.
const scheduleWait = 5 * time.Minute

// TestScheduler: the scheduler runs as a service of the project (the file `schedule
// --print` writes) and backs up on x-backup.schedule by itself: within three minutes
// each service has two successive snapshots, whose host, paths and tags are those of
// `docker backup up` from the host, so that a host run finds them as parents.
func TestScheduler(t *testing.T) {
	t.Parallel()
	p := newProject(t, "schedule")
	p.pgSQL(t, "db", "CREATE TABLE t (v text); INSERT INTO t VALUES ('scheduled');")
	p.exec(t, "files", "sh", "-c", "echo upload > /srv/uploads/a.txt")
	gw := p.gateway(t)
	hooks, pings := newReceiverOn(t, gw+":0"), newReceiverOn(t, gw+":0")
	id := p.startScheduler(t, "HOOK_URL="+hooks.url+"/hook", "HC_URL="+pings.url+"/ping/e2e")
	metricsURL := "http://" + p.containerIP(t, id) + ":9187/metrics"
	lastSuccess := func(m map[string]float64, svc string) float64 {
		return m["docker_backup_last_success_timestamp_seconds{project="+p.name+",service="+svc+"}"]
	}
	awaitLog(t, id, "schedule: up: ok in", 1, scheduleWait)
	first := scrape(t, metricsURL)
	if lastSuccess(first, "db") == 0 || lastSuccess(first, "files") == 0 {
		t.Errorf("no last success of db and files after the first run: %v", first)
	}

	ok := awaitLog(t, id, "schedule: up: ok in", 2, 90*time.Second)
	t.Logf("two runs: %q", ok)
	repo, key := p.localRepo()
	// --no-lock: the scheduler's next run may hold an exclusive lock.
	by := byService(snapshots(t, repo, key, "--no-lock"))
	for _, svc := range []string{"db", "files"} {
		if len(by[svc]) < 2 {
			t.Fatalf("%s has %d snapshots after two scheduled runs, want 2", svc, len(by[svc]))
		}
		for _, s := range by[svc] {
			if s.has("unconfirmed") {
				t.Errorf("%s: snapshot %s is still unconfirmed after its run said ok", svc, s.ID)
			}
		}
	}
	second := scrape(t, metricsURL)
	for _, svc := range []string{"db", "files"} {
		if lastSuccess(second, svc) <= lastSuccess(first, svc) {
			t.Errorf("%s: the last success did not move with the second run: %v then %v", svc, lastSuccess(first, svc), lastSuccess(second, svc))
		}
	}
	if second["docker_backup_scheduler_heartbeat_timestamp_seconds{project="+p.name+"}"] == 0 {
		t.Errorf("no heartbeat series: %v", second)
	}
	t.Logf("metrics after the second run: %v", second)

	// Each run told the webhook of each service's success, and the healthcheck of its
	// start and end, in order.
	eventually(t, 10*time.Second, "the notices of two runs", func() error {
		if n := len(hooks.notices(t)); n < 4 {
			return fmt.Errorf("%d notices", n)
		}
		return nil
	})
	for _, n := range hooks.notices(t) {
		if n.Project != p.name || n.Status != "ok" || n.Snapshot == "" || n.Machine == "" || (n.Service != "db" && n.Service != "files") {
			t.Errorf("notice %+v", n)
		}
	}
	t.Logf("a webhook body: %s", hooks.requests()[0].body)
	var paths []string
	for _, r := range pings.requests() {
		paths = append(paths, r.path)
	}
	if len(paths) < 4 || !slices.Equal(paths[:4], []string{"/ping/e2e/start", "/ping/e2e", "/ping/e2e/start", "/ping/e2e"}) {
		t.Errorf("healthcheck pings %v, want start, success, start, success", paths)
	}
	if state(t, p.container(t, "files")) != "running" {
		t.Errorf("files is not running after the scheduled runs")
	}

	// status in the scheduler's own container: it finds its project and its state.
	inside := runDocker(t, "exec", id, "/usr/local/bin/docker-backup", "status")
	if inside.code != 0 || !strings.Contains(inside.stdout, "scheduler ") || !strings.Contains(inside.stdout, `on "@every 10s"`) {
		t.Errorf("status in the scheduler's container: %v\n%s", inside, inside.stdout)
	}
	t.Logf("status in the scheduler's container:\n%s", inside.stdout)

	// The host's run, with the scheduler stopped so that no tick comes meanwhile.
	mustDocker(t, "stop", id)
	r := p.backup(t, "up", "--json", "--no-notify")
	if r.code != 0 {
		t.Fatalf("up from the host: %v", r)
	}
	done := doneEvents(t, r.stdout)
	if f := done["files"]; f.Summary == nil || f.Summary.FilesNew != 0 || f.Summary.FilesChanged != 0 || f.Summary.FilesUnmodified == 0 {
		t.Errorf("the host's up of files did not take the scheduled snapshot as its parent: %+v", f.Summary)
	}
	after := snapshotsByService(t, repo, key, nil)
	for _, svc := range []string{"db", "files"} {
		sched, host := by[svc][len(by[svc])-1], after[svc][len(after[svc])-1]
		if host.ID == sched.ID {
			t.Fatalf("%s: the host's up made no snapshot", svc)
		}
		if host.Host != sched.Host || !slices.Equal(host.Paths, sched.Paths) || !slices.Equal(withoutRun(host.Tags), withoutRun(sched.Tags)) {
			t.Errorf("%s: scheduled snapshot %s %v %v, host's %s %v %v", svc, sched.Host, sched.Paths, sched.Tags, host.Host, host.Paths, host.Tags)
		}
	}

	// status from the host: the scheduler (stopped now), each service's last snapshot.
	st := p.backup(t, "status")
	if st.code != 0 || !strings.Contains(st.stdout, "scheduler") || !strings.Contains(st.stdout, "files") {
		t.Errorf("status: %v\n%s", st, st.stdout)
	}
	t.Logf("status:\n%s", st.stdout)
}

// byService groups snapshots by their service tag, in the order given.
func byService(snaps []snapshot) map[string][]snapshot {
	by := map[string][]snapshot{}
	for _, s := range snaps {
		by[s.tag("service")] = append(by[s.tag("service")], s)
	}
	return by
}

// withoutRun drops the run tag, which differs from run to run.
func withoutRun(tags []string) []string {
	return slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return strings.HasPrefix(t, "run=") })
}

// TestSchedulerStoppedMidRun: a tick that comes while a run is still going is skipped
// and logged; `docker stop` of the scheduler while it copies a service it stopped
// exits 0 within the stop timeout, the service runs again and no helper is left.
//
// Its scheduler runs our image as `make image` builds it, named to --print.
func TestSchedulerStoppedMidRun(t *testing.T) {
	t.Parallel()
	image := makeImage(t)
	p := newProject(t, "schedule-stop")
	p.exec(t, "vault", "sh", "-c", "head -c 1G /dev/urandom > /data/big")
	p.exec(t, "vault", "touch", "/tmp/hold")
	id := p.startScheduler(t, "DOCKER_BACKUP_AGENT_IMAGE="+image)
	if got := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.Config.Image}}", id)); got != image {
		t.Errorf("the scheduler runs %s, want the image make built, %s", got, image)
	}

	awaitLog(t, id, "schedule: up: started", 1, 90*time.Second)
	skipped := awaitLog(t, id, "schedule: up: tick of", 1, 90*time.Second)
	if !strings.Contains(skipped[0], "up started at") || !strings.Contains(skipped[0], "still running") {
		t.Errorf("skip line = %q", skipped[0])
	}
	vault := p.container(t, "vault")
	p.exec(t, "vault", "rm", "/tmp/hold")
	eventually(t, time.Minute, "vault stopped for its copy", func() error {
		if s := state(t, vault); s != "exited" {
			return fmt.Errorf("vault is %s", s)
		}
		return nil
	})
	p.waitHelper(t, "backup")

	// A plain docker stop: the container's stop timeout is the printed file's
	// stop_grace_period, as compose set it.
	if got := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.Config.StopTimeout}}", id)); got != "60" {
		t.Errorf("the scheduler's stop timeout = %s, want 60 (stop_grace_period: 1m)", got)
	}
	began := time.Now()
	if r := runDocker(t, "stop", id); r.code != 0 {
		t.Fatalf("docker stop: %v", r)
	}
	took := time.Since(began)
	if code := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.State.ExitCode}}", id)); code != "0" {
		t.Errorf("the scheduler exited %s, want 0", code)
	}
	if took >= 60*time.Second {
		t.Errorf("docker stop took %s: the stop timeout killed the scheduler", took)
	}
	t.Logf("docker stop took %s", took.Round(100*time.Millisecond))
	if s := state(t, vault); s != "running" {
		t.Errorf("vault is %s after the scheduler stopped, want running", s)
	}
	p.checkRunEnded(t)
	awaitLog(t, id, "scheduler stopped", 1, 10*time.Second)
	// The copy it ended left no snapshot: restic never committed it.
	repo, key := p.localRepo()
	if snaps := byService(snapshots(t, repo, key, "--no-lock"))["vault"]; len(snaps) != 0 {
		t.Errorf("the interrupted run left snapshots of vault: %v", snapshotIDs(snaps))
	}
}

// TestSchedulerCheckAndPrune: the scheduler runs restic check (with its
// read_data_subset), restic prune and the restore drill on their own schedules; the
// prune removes the data of a snapshot forgotten meanwhile, and keeps what the others
// need; the drill passes and leaves no throwaway behind.
func TestSchedulerCheckAndPrune(t *testing.T) {
	t.Parallel()
	p := newProject(t, "schedule-maintenance")
	p.exec(t, "files", "sh", "-c", "head -c 4M /dev/urandom > /srv/data/kept")
	p.mustBackup(t, "up")
	p.exec(t, "files", "sh", "-c", "head -c 4M /dev/urandom > /srv/data/dropped")
	p.mustBackup(t, "up")
	repo, key := p.localRepo()
	snaps := snapshots(t, repo, key)
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots, want 2", len(snaps))
	}
	if r := hostRestic(repo, key, "forget", snaps[1].ID).run(); r.code != 0 {
		t.Fatalf("forgetting the second snapshot: %v", r)
	}
	before := len(lines(hostRestic(repo, key, "list", "packs", "--no-lock").run().stdout))

	id := p.startScheduler(t)
	awaitLog(t, id, "schedule: check: ok in", 1, scheduleWait)
	awaitLog(t, id, "schedule: prune: ok in", 1, scheduleWait)
	awaitLog(t, id, "schedule: verify: ok in", 1, scheduleWait)
	if log := schedulerLog(t, id); !strings.Contains(log, "of data packs") || !strings.Contains(log, "files: ok") {
		t.Errorf("the check did not read the data subset, or the drill did not verify files:\n%s", log)
	}
	mustDocker(t, "stop", id)
	if left := mustDocker(t, "ps", "-aq", "--filter", "label="+labelKind+"=verify", "--filter", "label="+labelProject+"="+p.name); strings.TrimSpace(left) != "" {
		t.Errorf("the scheduled drill left throwaway containers: %s", left)
	}
	after := len(lines(hostRestic(repo, key, "list", "packs", "--no-lock").run().stdout))
	if after >= before {
		t.Errorf("packs: %d before the scheduled prune, %d after: the forgotten snapshot's data is still there", before, after)
	}
	if r := hostRestic(repo, key, "check", "--read-data").run(); r.code != 0 {
		t.Errorf("the repository after the scheduled prune: %v", r)
	}
	if r := hostRestic(repo, key, "restore", snaps[0].ID, "--target", t.TempDir()).run(); r.code != 0 {
		t.Errorf("the kept snapshot does not restore after the prune: %v", r)
	}
}
