//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSwarmStackSchedule deploys a stack with two volumes services, one pinned to each
// worker of a three-node swarm, MinIO listening on the manager's address; prints the
// scheduler through the manager (`docker backup -p shop schedule --print`) and deploys
// that file with `docker stack deploy` as a stack of its own: its one task runs on the
// manager, and on "@every 15s" it backs both services up on their workers. Two
// scheduled rounds later, plain restic finds for each service confirmed snapshots of two
// runs in the stack's series, each holding exactly the volume's files; no secret is in
// the printed file or in `docker service inspect`; status through the manager shows the
// scheduler and each service's last snapshot. The scheduler's container killed while a
// job of its run is there, swarm's next task removes that run's jobs as it starts, and
// rounds go on. Once the scheduler's stack is removed,
// `schedule` in the foreground through the manager makes a round too and ends on
// SIGTERM; then nothing of ours is left on any node (jobs, secrets, containers, anchor).
func TestSwarmStackSchedule(t *testing.T) {
	t.Parallel()
	agentImage := makeImage(t)
	s := startSwarm(t, agentImage, env.resticImage)
	ns := s.name + "-shop"
	m := startMinioIn(t, s.Manager)
	repo := "s3:http://" + m.addr + "/dbe2e/" + ns

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-schedule"))); err != nil {
		t.Fatal(err)
	}
	password := "pw-" + randomHex(8)
	pwFile := filepath.Join(dir, "restic.pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The backend's credentials are secrets: --print never writes them, the scheduler
	// reads them from the project's .env, which the printed file carries as a secret.
	dotEnv := fmt.Sprintf("S3_KEY_ID=%s\nS3_SECRET=%s\n", m.accessKey, m.secretKey)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	m.initRepo(t, repo, pwFile)
	vars := []string{"IMAGE=" + env.resticImage, "WORKER1_HOSTNAME=" + s.Worker1.Hostname, "WORKER2_HOSTNAME=" + s.Worker2.Hostname, "REPO=" + repo,
		"AGENT_IMAGE=" + agentImage,
		// The nodes' engines have no NAT (--iptables=false): helpers use their node's
		// network, where the manager's address is.
		"DOCKER_BACKUP_NETWORK=host"}
	docker := func(args ...string) result {
		t.Helper()
		c := s.Cmd(args...)
		c.dir, c.env = dir, append(c.env, vars...)
		return c.run()
	}
	if r := docker("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns); r.code != 0 {
		t.Fatalf("%v", r)
	}
	placed := map[string]*swarmNode{"one": s.Worker1, "two": s.Worker2}
	eventually(t, 2*time.Minute, "each service to run on its worker with its files written", func() error {
		for svc, n := range placed {
			ids := lines(n.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+ns+"_"+svc))
			if len(ids) != 1 {
				return fmt.Errorf("%s: %d running containers on %s", svc, len(ids), n.Name)
			}
			if r := n.Docker(t, "exec", ids[0], "/bin/sh", "-c", "test -e /srv/"+svc+"/ready"); r.code != 0 {
				return fmt.Errorf("%s not ready: %v", svc, r)
			}
		}
		return nil
	})

	r := docker("backup", "-p", ns, "schedule", "--print")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("schedule --print: want exit code 0 and no warning: %v", r)
	}
	printed := r.stdout
	for _, secret := range []string{password, m.secretKey} {
		if strings.Contains(printed, secret) {
			t.Fatalf("the printed file holds a secret:\n%s", printed)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "backup.yaml"), []byte(printed), 0o644); err != nil {
		t.Fatal(err)
	}
	schedStack := ns + "-backup"
	start := time.Now()
	if r := docker("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "backup.yaml", schedStack); r.code != 0 {
		t.Fatalf("deploying the scheduler: %v\nthe file:\n%s", r, printed)
	}
	schedSvc := schedStack + "_docker-backup"

	t.Run("the scheduler runs on the manager and shows no secret", func(t *testing.T) {
		eventually(t, 2*time.Minute, "the scheduler to run on the manager", func() error {
			if got := lines(s.Manager.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+schedSvc)); len(got) != 1 {
				return fmt.Errorf("%d containers of it on the manager", len(got))
			}
			return nil
		})
		spec := s.Manager.MustDocker(t, "service", "inspect", schedSvc)
		for _, secret := range []string{password, m.secretKey} {
			if strings.Contains(spec, secret) {
				t.Errorf("`docker service inspect` of the scheduler shows a secret:\n%s", spec)
			}
		}
		if !strings.Contains(spec, "node.role == manager") {
			t.Errorf("the scheduler is not placed on a manager:\n%s", spec)
		}
	})

	type snap struct {
		ID       string    `json:"short_id"`
		Hostname string    `json:"hostname"`
		Tags     []string  `json:"tags"`
		Time     time.Time `json:"time"`
	}
	// Both services' snapshots, once each has two of distinct runs.
	byService := map[string][]snap{}
	eventually(t, 4*time.Minute, "two scheduled rounds to back up both services", func() error {
		r := m.restic(repo, pwFile, "snapshots", "--json").run()
		if r.code != 0 {
			return fmt.Errorf("%v", r)
		}
		var snaps []snap
		if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil {
			return err
		}
		byService = map[string][]snap{}
		runs := map[string]map[string]bool{}
		for _, sn := range snaps {
			for svc := range placed {
				if slices.Contains(sn.Tags, "service="+svc) {
					byService[svc] = append(byService[svc], sn)
					if runs[svc] == nil {
						runs[svc] = map[string]bool{}
					}
					for _, tag := range sn.Tags {
						if strings.HasPrefix(tag, "run=") {
							runs[svc][tag] = true
						}
					}
				}
			}
		}
		for svc := range placed {
			if len(runs[svc]) < 2 {
				return fmt.Errorf("%s: snapshots of %d runs", svc, len(runs[svc]))
			}
		}
		return nil
	})
	t.Logf("two scheduled rounds backed up both services %s after the scheduler was deployed", time.Since(start).Round(time.Millisecond))

	t.Run("every snapshot holds its volume's files in the stack's series", func(t *testing.T) {
		want := map[string]map[string]string{
			"one": {"a": "uno\n", "d/b": "dos\n", "ready": ""},
			"two": {"c": "tres\n", "ready": ""},
		}
		for svc, snaps := range byService {
			n := placed[svc]
			for _, sn := range snaps {
				if slices.Contains(sn.Tags, "unconfirmed") {
					t.Errorf("%s: snapshot %s is unconfirmed", svc, sn.ID)
				}
				if !strings.HasPrefix(sn.Hostname, ns+"@swarm-") || !slices.Contains(sn.Tags, "node="+n.Hostname) {
					t.Errorf("%s: snapshot %s's host %q, tags %q: want %s@swarm-… and node=%s", svc, sn.ID, sn.Hostname, sn.Tags, ns, n.Hostname)
				}
				got := map[string]string{}
				for _, l := range lines(m.resticOut(t, repo, pwFile, "ls", "--json", sn.ID)) {
					var e struct{ Type, Path string }
					if json.Unmarshal([]byte(l), &e) != nil || e.Type != "file" {
						continue
					}
					// The volume (key svc) of service svc, where the job mounted it.
					_, rel, ok := strings.Cut(e.Path, "/backup/"+svc+"/"+svc+"/")
					if !ok {
						t.Errorf("%s: snapshot %s holds %s, outside the volume", svc, sn.ID, e.Path)
						continue
					}
					got[rel] = m.resticOut(t, repo, pwFile, "dump", sn.ID, e.Path)
				}
				if fmt.Sprint(got) != fmt.Sprint(want[svc]) {
					t.Errorf("%s: snapshot %s holds %q, want %q", svc, sn.ID, got, want[svc])
				}
			}
		}
	})

	// The run tags of the repository's snapshots, by service.
	runsOf := func(t *testing.T) map[string]map[string]bool {
		var snaps []snap
		if err := json.Unmarshal([]byte(m.resticOut(t, repo, pwFile, "snapshots", "--json")), &snaps); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]bool{}
		for _, sn := range snaps {
			for svc := range placed {
				if !slices.Contains(sn.Tags, "service="+svc) {
					continue
				}
				for _, tag := range sn.Tags {
					if strings.HasPrefix(tag, "run=") {
						if out[svc] == nil {
							out[svc] = map[string]bool{}
						}
						out[svc][tag] = true
					}
				}
			}
		}
		return out
	}

	t.Run("the scheduler killed during a round: its next task removes the dead run's jobs", func(t *testing.T) {
		// Kill the scheduler while a job of its run is there: a job seen may end, and its
		// run with it, before the kill; then the next task has nothing to recover, and
		// the test tries again with that task.
		var jobs []string
		var dead string
		var before map[string]map[string]bool
		var killed time.Time
		for attempt := 1; ; attempt++ {
			before = runsOf(t)
			ids := lines(s.Manager.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+schedSvc))
			eventually(t, time.Minute, "a round's job to run", func() error {
				out, err := s.Manager.run("service", "ls", "-q", "--filter", "label=io.docker-backup.helper=true")
				if jobs = lines(out); err != nil || len(jobs) == 0 {
					return fmt.Errorf("no job (%v)", err)
				}
				return nil
			})
			if len(ids) != 1 {
				t.Fatalf("%d scheduler containers on the manager", len(ids))
			}
			s.Manager.MustDocker(t, "kill", ids[0])
			killed = time.Now()
			out, err := s.Manager.run("service", "inspect", "--format", `{{index .Spec.Labels "io.docker-backup.run"}}`, jobs[0])
			if dead = "run=" + strings.TrimSpace(out); err == nil && dead != "run=" {
				break
			}
			if attempt == 3 {
				t.Fatalf("the job ended before the kill, 3 times")
			}
			t.Logf("the job ended before the kill: again with the next task")
			eventually(t, time.Minute, "the next task", func() error {
				if got := lines(s.Manager.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+schedSvc)); len(got) != 1 || got[0] == ids[0] {
					return fmt.Errorf("not yet")
				}
				return nil
			})
		}
		eventually(t, 2*time.Minute, "the next task to recover the dead run's jobs", func() error {
			log, err := s.Manager.run("service", "logs", "--raw", schedSvc)
			if err != nil || !strings.Contains(log, "recovering what a dead run") || !strings.Contains(log, "swarm job(s) of the dead run and their secrets") {
				return fmt.Errorf("no recovery logged yet (%v)", err)
			}
			left, err := s.Manager.run(append([]string{"service", "inspect", "--format", "{{.ID}}"}, jobs...)...)
			if err == nil || strings.TrimSpace(left) != "" {
				return fmt.Errorf("the dead run's jobs are still there: %q", lines(left))
			}
			return nil
		})
		t.Logf("the dead run's jobs removed %s after the kill", time.Since(killed).Round(time.Millisecond))
		eventually(t, 2*time.Minute, "a round after the recovery", func() error {
			for svc, runs := range runsOf(t) {
				if !slices.ContainsFunc(slices.Collect(maps.Keys(runs)), func(r string) bool { return !before[svc][r] && r != dead }) {
					return fmt.Errorf("%s: no run but the dead one since the kill", svc)
				}
			}
			return nil
		})
	})

	t.Run("status through the manager shows the scheduler and each service's last snapshot", func(t *testing.T) {
		r := docker("backup", "-p", ns, "status", "--json")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("status: %v", r)
		}
		var view struct {
			Scheduler *struct {
				Running bool `json:"running"`
			} `json:"scheduler"`
			Services []struct {
				Service      string `json:"service"`
				LastStatus   string `json:"last_status"`
				LastSnapshot string `json:"last_snapshot"`
			} `json:"services"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &view); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if view.Scheduler == nil || !view.Scheduler.Running || len(view.Services) != 2 {
			t.Fatalf("status shows %s", r.stdout)
		}
		// A round may have ended since the snapshots were listed: list them again.
		var snaps []snap
		if err := json.Unmarshal([]byte(m.resticOut(t, repo, pwFile, "snapshots", "--json")), &snaps); err != nil {
			t.Fatal(err)
		}
		for _, row := range view.Services {
			if row.LastStatus != "ok" || !slices.ContainsFunc(snaps, func(sn snap) bool {
				return sn.ID == row.LastSnapshot && slices.Contains(sn.Tags, "service="+row.Service)
			}) {
				t.Errorf("status's row %+v: want ok and a snapshot of the service", row)
			}
		}
	})

	if out, err := s.Manager.run("service", "logs", "--raw", schedSvc); err == nil {
		t.Logf("the scheduler's log:\n%s", out)
	}
	if r := docker("stack", "rm", schedStack); r.code != 0 {
		t.Fatalf("%v", r)
	}
	eventually(t, 2*time.Minute, "the scheduler's container to be gone", func() error {
		if got := lines(s.Manager.MustDocker(t, "ps", "-aq", "--filter", "label=io.docker-backup.scheduler")); len(got) > 0 {
			return fmt.Errorf("%d left", len(got))
		}
		return nil
	})

	t.Run("the scheduler in the foreground through the manager", func(t *testing.T) {
		runs := func() map[string]bool {
			var snaps []snap
			if err := json.Unmarshal([]byte(m.resticOut(t, repo, pwFile, "snapshots", "--json")), &snaps); err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, sn := range snaps {
				for _, tag := range sn.Tags {
					if strings.HasPrefix(tag, "run=") {
						out[tag] = true
					}
				}
			}
			return out
		}
		before := runs()
		c := cmdSpec{argv: []string{pluginBin(), "-p", ns, "schedule"}, dir: dir, env: append(s.Env(), vars...)}
		fg := startSpec(t, c, false)
		eventually(t, 2*time.Minute, "a scheduled round of the foreground scheduler", func() error {
			if fg.exited() {
				t.Fatalf("the scheduler exited: %v", fg.res)
			}
			for run := range runs() {
				if !before[run] {
					return nil
				}
			}
			return errors.New("no new run yet")
		})
		fg.signal(t, syscall.SIGTERM)
		r := fg.wait(t, 2*time.Minute)
		if r.code != 0 || !strings.Contains(r.stdout, "scheduler of swarm stack "+ns+" started") || !strings.Contains(r.stdout, "scheduler stopped") {
			t.Errorf("want exit code 0, started and stopped: %v", r)
		}
	})

	t.Run("nothing of ours is left once the scheduler's stack is removed", func(t *testing.T) {
		eventually(t, 2*time.Minute, "the scheduler, its runs' jobs, secrets and containers to be gone", func() error {
			var left []string
			for _, args := range [][]string{
				{"service", "ls", "--format", "{{.Name}}", "--filter", "label=io.docker-backup.project=" + ns},
				{"service", "ls", "--format", "{{.Name}}", "--filter", "label=com.docker.stack.namespace=" + schedStack},
				{"secret", "ls", "--format", "{{.Name}}", "--filter", "label=io.docker-backup.project=" + ns},
				{"secret", "ls", "--format", "{{.Name}}", "--filter", "label=com.docker.stack.namespace=" + schedStack},
			} {
				left = append(left, lines(s.Manager.MustDocker(t, args...))...)
			}
			for _, n := range s.Nodes() {
				for _, filter := range []string{"label=io.docker-backup.project=" + ns, "label=io.docker-backup.scheduler"} {
					for _, id := range lines(n.MustDocker(t, "ps", "-aq", "--filter", filter)) {
						left = append(left, n.Name+": container "+id)
					}
				}
			}
			if len(left) > 0 {
				return fmt.Errorf("left: %q", left)
			}
			return nil
		})
	})
}
