//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scheduleWait bounds the wait for two ticks of "* * * * *" and their runs.
const scheduleWait = 3 * time.Minute

// TestScheduler: the scheduler runs as a service of the project (the file `schedule
// --print` writes) and backs up on x-backup.schedule by itself: within three minutes
// each service has two successive snapshots, whose host, paths and tags are those of
// `docker backup up` from the host, so that a host run finds them as parents.
func TestScheduler(t *testing.T) {
	p := newProject(t, "schedule")
	p.pgSQL(t, "db", "CREATE TABLE t (v text); INSERT INTO t VALUES ('scheduled');")
	p.exec(t, "files", "sh", "-c", "echo upload > /srv/uploads/a.txt")
	id := p.startScheduler(t)

	repo, key := p.localRepo()
	var by map[string][]snapshot
	eventually(t, scheduleWait, "two scheduled snapshots of db and files", func() error {
		// The first run makes the key, then the repository, then the snapshots.
		if _, err := os.Stat(filepath.Join(repo, "config")); err != nil {
			return err
		}
		by = byService(snapshots(t, repo, key, "--no-lock")) // the scheduler may hold an exclusive lock
		if len(by["db"]) < 2 || len(by["files"]) < 2 {
			return fmt.Errorf("db %d, files %d", len(by["db"]), len(by["files"]))
		}
		return nil
	})
	ok := awaitLog(t, id, "schedule: up: ok in", 2, time.Minute)
	t.Logf("two runs: %q", ok)
	if state(t, p.container(t, "files")) != "running" {
		t.Errorf("files is not running after the scheduled runs")
	}

	// The host's run, with the scheduler stopped so that no tick comes meanwhile.
	mustDocker(t, "stop", "-t", "60", id)
	r := p.backup(t, "up", "--json")
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
func TestSchedulerStoppedMidRun(t *testing.T) {
	p := newProject(t, "schedule-stop")
	p.exec(t, "vault", "sh", "-c", "head -c 1G /dev/urandom > /data/big")
	p.exec(t, "vault", "touch", "/tmp/hold")
	id := p.startScheduler(t)

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

	began := time.Now()
	if r := runDocker(t, "stop", "-t", "60", id); r.code != 0 {
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
}
