//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Our labels on a swarm service a run scaled to 0 (engine.LabelScaledFrom, ScaledBy).
const (
	labelScaledFrom = "io.docker-backup.scaled-from"
	labelScaledBy   = "io.docker-backup.scaled-by"
)

// TestSwarmStackStop deploys a stack with a stop: true volumes service (1 replica)
// pinned to worker 2 on a three-node swarm, MinIO on the manager's address:
//  1. `up` through the manager scales it to 0 for the copy, which runs on worker 2, and
//     back: the snapshot holds exactly the volume's files; the service is at 1 with a
//     running task and no record of the scaling;
//  2. Ctrl-C (SIGINT) to the plugin while the service is at 0: scaled back before it
//     exits (130);
//  3. a copy that fails while the service is at 0 (another machine's exclusive lock,
//     taken after the scale-down): up exits 1, the service is scaled back;
//  4. kill -9 of the plugin while the service is at 0: the service stays at 0 with the
//     record, which `snapshots` names; the next `up` scales it back first (one line),
//     then backs it up; nothing of the dead run (jobs, secrets, containers, locks) is
//     left.
func TestSwarmStackStop(t *testing.T) {
	t.Parallel()
	agentImage := makeImage(t)
	s := startSwarm(t, agentImage, env.resticImage)
	ns := s.name + "-stop"
	svc := ns + "_held"
	m := startMinioIn(t, s.Manager)
	repo := "s3:http://" + m.addr + "/dbe2e/" + ns

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-stop"))); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "restic.pw")
	if err := os.WriteFile(pwFile, []byte("pw-"+randomHex(8)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.initRepo(t, repo, pwFile)
	vars := []string{"IMAGE=" + env.resticImage, "WORKER2_HOSTNAME=" + s.Worker2.Hostname, "REPO=" + repo,
		"AGENT_IMAGE=" + agentImage, "S3_KEY_ID=" + m.accessKey, "S3_SECRET=" + m.secretKey,
		"DOCKER_BACKUP_NETWORK=host"}
	cmd := func(argv ...string) cmdSpec {
		return cmdSpec{argv: argv, dir: dir, env: append(s.Env(), vars...)}
	}
	if r := cmd("docker", "stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns).run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	st := stopStack{s: s, svc: svc}
	st.waitRunning(t)

	type snap struct {
		ID   string   `json:"short_id"`
		Tags []string `json:"tags"`
	}
	snaps := func(t *testing.T) []snap {
		t.Helper()
		var out []snap
		raw := m.resticOut(t, repo, pwFile, "snapshots", "--json")
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("snapshots: %v\n%s", err, raw)
		}
		return out
	}
	// upOK runs `docker backup up` and checks the newest snapshot holds the volume's
	// files, and the service is back at 1 with a running task.
	upOK := func(t *testing.T) result {
		t.Helper()
		start := time.Now()
		r := cmd("docker", "backup", "-p", ns, "up").run()
		t.Logf("up: exit code %d in %s", r.code, time.Since(start).Round(time.Millisecond))
		if r.code != 0 {
			t.Fatalf("up: %v", r)
		}
		all := snaps(t)
		if len(all) == 0 {
			t.Fatal("no snapshot")
		}
		last := all[len(all)-1]
		if !slices.Contains(last.Tags, "node="+s.Worker2.Hostname) {
			t.Errorf("snapshot %s tags %q: want node=%s", last.ID, last.Tags, s.Worker2.Hostname)
		}
		files := snapshotFiles(t, m, repo, pwFile, last.ID)
		if len(files) != 3 || !strings.HasSuffix(files[0], "/a") || !strings.HasSuffix(files[1], "/d/b") || !strings.HasSuffix(files[2], "/ready") {
			t.Fatalf("snapshot %s holds %q, want a, d/b and ready", last.ID, files)
		}
		if got := m.resticOut(t, repo, pwFile, "dump", last.ID, files[1]); got != "two\n" {
			t.Errorf("%s holds %q, want two", files[1], got)
		}
		st.checkBack(t)
		return r
	}

	t.Run("up scales the service to 0 for the copy and back", func(t *testing.T) {
		minimum := st.watchMinimum()
		upOK(t)
		if low := minimum(); low != 0 {
			t.Errorf("the service's replicas never went below %d during up", low)
		}
	})

	t.Run("Ctrl-C while at 0 scales it back before the plugin exits", func(t *testing.T) {
		p := startSpec(t, cmd(pluginBin(), "backup", "-p", ns, "up"), false)
		st.waitZero(t, p)
		p.signal(t, os.Interrupt)
		r := p.wait(t, 2*time.Minute)
		if r.code != 130 {
			t.Errorf("interrupted up: exit code %d, want 130: %v", r.code, r)
		}
		// At once: the plugin scaled it back before it exited.
		if n, labels := st.replicas(t); n != 1 || labels[labelScaledFrom] != "" || labels[labelScaledBy] != "" {
			t.Errorf("after Ctrl-C: replicas %d, labels %v; want 1, no record", n, labels)
		}
		st.checkBack(t)
	})

	t.Run("a copy that fails at 0 scales it back", func(t *testing.T) {
		// Another machine's exclusive lock, taken once the service is at 0 (after the
		// run has opened the repository): the copy's restic backup fails on it (exit
		// 11). The lock's holder is restic key passwd waiting for its new password on a
		// FIFO; the same password, written there at the end, lets it finish.
		fifo := filepath.Join(t.TempDir(), "new.pw")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			t.Fatal(err)
		}
		for attempt := 1; ; attempt++ {
			p := startSpec(t, cmd(pluginBin(), "backup", "-p", ns, "up"), false)
			st.waitZero(t, p)
			holder := startSpec(t, m.restic(repo, pwFile, "key", "passwd", "--new-password-file", fifo), false)
			r := p.wait(t, 3*time.Minute)
			if holder.exited() {
				// The copy's restic locked the repository first: try again.
				if attempt == 3 {
					t.Fatalf("the lock was never taken before the copy's: %v", holder.res)
				}
				t.Logf("attempt %d: the copy locked first (%s); again", attempt, strings.TrimSpace(holder.res.stderr))
				st.checkBack(t)
				continue
			}
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "locked") {
				t.Errorf("up with the copy failing: want exit code 1 and a lock failure: %v", r)
			}
			if n, labels := st.replicas(t); n != 1 || labels[labelScaledFrom] != "" || labels[labelScaledBy] != "" {
				t.Errorf("after the failed copy: replicas %d, labels %v; want 1, no record", n, labels)
			}
			if err := os.WriteFile(fifo, pw, 0o600); err != nil {
				t.Fatal(err)
			}
			if hr := holder.wait(t, time.Minute); hr.code != 0 {
				t.Fatalf("the lock's holder: %v", hr)
			}
			break
		}
		st.checkBack(t)
	})

	t.Run("kill -9 while at 0: the next up scales it back, then backs up", func(t *testing.T) {
		p := startSpec(t, cmd(pluginBin(), "backup", "-p", ns, "up"), false)
		st.waitZero(t, p)
		p.signal(t, syscall.SIGKILL)
		p.wait(t, time.Minute)
		n, labels := st.replicas(t)
		if n != 0 || labels[labelScaledFrom] != "1" || labels[labelScaledBy] == "" {
			t.Fatalf("after kill -9: replicas %d, labels %v; want 0 with the record", n, labels)
		}
		dead := labels[labelScaledBy]
		// A command that changes nothing says so, and leaves it.
		snaps := cmd("docker", "backup", "-p", ns, "snapshots").run()
		if want := "left service held scaled to 0: the next docker backup up, restore, verify or forget of the project scales held back"; snaps.code != 0 || !strings.Contains(snaps.stdout+snaps.stderr, want) {
			t.Errorf("snapshots: want exit code 0 and %q: %v", want, snaps)
		}
		if n, _ := st.replicas(t); n != 0 {
			t.Errorf("snapshots scaled the service to %d", n)
		}
		r := upOK(t)
		want := "scaled service " + svc + " back to 1 replicas: interrupted run " + dead + " had scaled it to 0"
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the next up did not say %q: %v", want, r)
		}
		if locks := lines(m.resticOut(t, repo, pwFile, "list", "locks")); len(locks) > 0 {
			t.Errorf("locks left: %q", locks)
		}
	})

	t.Run("nothing of any run is left", func(t *testing.T) {
		checkNothingLeft(t, s, ns)
	})
}

// stopStack watches the stop: true service svc of a test's stack on its manager.
type stopStack struct {
	s   *swarm
	svc string
}

// replicas are the count the service asks for and its labels.
func (st stopStack) replicas(t *testing.T) (uint64, map[string]string) {
	t.Helper()
	var spec struct {
		Spec struct {
			Labels map[string]string
			Mode   struct{ Replicated *struct{ Replicas uint64 } }
		}
	}
	out := st.s.Manager.MustDocker(t, "service", "inspect", "--format", "{{json .}}", st.svc)
	if err := json.Unmarshal([]byte(out), &spec); err != nil || spec.Spec.Mode.Replicated == nil {
		t.Fatalf("service %s: %v\n%s", st.svc, err, out)
	}
	return spec.Spec.Mode.Replicated.Replicas, spec.Spec.Labels
}

// running is how many of the service's tasks run.
func (st stopStack) running(t *testing.T) int {
	t.Helper()
	n := 0
	for _, l := range lines(st.s.Manager.MustDocker(t, "service", "ps", "--filter", "desired-state=running", "--format", "{{.CurrentState}}", st.svc)) {
		if strings.HasPrefix(l, "Running") {
			n++
		}
	}
	return n
}

// waitRunning waits until the service's one task runs on worker 2 with its files, and
// swarm says so.
func (st stopStack) waitRunning(t *testing.T) {
	t.Helper()
	eventually(t, 2*time.Minute, st.svc+" to run on worker 2 with its files written", func() error {
		if n := st.running(t); n != 1 {
			return fmt.Errorf("%d running tasks, want 1", n)
		}
		ids := lines(st.s.Worker2.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+st.svc))
		if len(ids) != 1 {
			return fmt.Errorf("%d running containers on worker 2", len(ids))
		}
		if r := st.s.Worker2.Docker(t, "exec", ids[0], "/bin/sh", "-c", "test -e /srv/held/ready"); r.code != 0 {
			return fmt.Errorf("not ready: %v", r)
		}
		return nil
	})
}

// checkBack checks the service asks for 1 replica with no record of a scaling, and
// (eventually) its one task runs on worker 2 again.
func (st stopStack) checkBack(t *testing.T) {
	t.Helper()
	if n, labels := st.replicas(t); n != 1 || labels[labelScaledFrom] != "" || labels[labelScaledBy] != "" {
		t.Errorf("replicas %d, labels %v; want 1, no record of the scaling", n, labels)
	}
	st.waitRunning(t)
}

// waitZero waits until the plugin p has scaled the service to 0 (and fails the test
// if p exits first).
func (st stopStack) waitZero(t *testing.T, p *started) {
	t.Helper()
	eventually(t, 3*time.Minute, st.svc+" to be scaled to 0", func() error {
		if p.exited() {
			return stopPoll{fmt.Errorf("the plugin exited first: %v", p.res)}
		}
		if n, _ := st.replicas(t); n != 0 {
			return fmt.Errorf("at %d", n)
		}
		return nil
	})
}

// watchMinimum watches the service's replicas until the returned func is called, and
// returns the lowest count seen.
func (st stopStack) watchMinimum() func() uint64 {
	done := make(chan struct{})
	low := make(chan uint64, 1)
	go func() {
		lowest := uint64(1 << 62)
		for {
			out, err := st.s.Manager.run("service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", st.svc)
			var n uint64
			if _, serr := fmt.Sscan(out, &n); err == nil && serr == nil {
				lowest = min(lowest, n)
			}
			select {
			case <-done:
				low <- lowest
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-low
	}
}
