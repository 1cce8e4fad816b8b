//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSwarmStackRestore deploys a stack with a volumes service pinned to worker 2 on a
// three-node swarm (MinIO on the manager's address), backs it up with `up` through the
// manager, drills the snapshot with `verify` (on the manager's engine), changes the volume's files (one modified, one deleted, one added), and
// restores through the manager: worker 2's volume holds exactly the snapshot's files
// again, the service was at 0 replicas only while the swap job ran (the staging
// restore ran while it was up) and is back at 1, running; nothing of the run is left
// on any node but the rollback volume, which holds the content the restore replaced.
// Then the task is moved to worker 1 (its constraint changed), its new volume there
// changed, and `restore` puts the snapshot onto worker 1's volume, where the task now
// runs. Last, a restore interrupted (Ctrl-C) while the service is at 0 scales it back,
// and its volume holds all its old content or all the snapshot's.
func TestSwarmStackRestore(t *testing.T) {
	t.Parallel()
	agentImage := makeImage(t)
	s := startSwarm(t, agentImage, env.resticImage)
	ns := s.name + "-rst"
	svc := ns + "_files"
	volume := ns + "_files"
	m := startMinioIn(t, s.Manager)
	repo := "s3:http://" + m.addr + "/dbe2e/" + ns

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-restore"))); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "restic.pw")
	if err := os.WriteFile(pwFile, []byte("pw-"+randomHex(8)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.initRepo(t, repo, pwFile)
	vars := []string{"IMAGE=" + env.resticImage, "NODE_HOSTNAME=" + s.Worker2.Hostname, "REPO=" + repo,
		"AGENT_IMAGE=" + agentImage, "S3_KEY_ID=" + m.accessKey, "S3_SECRET=" + m.secretKey,
		"DOCKER_BACKUP_NETWORK=host"}
	backup := func(args ...string) result {
		c := s.Cmd(append([]string{"backup", "-p", ns}, args...)...)
		c.dir, c.env = dir, append(c.env, vars...)
		start := time.Now()
		r := c.run()
		t.Logf("docker backup %s: exit code %d in %s", strings.Join(args, " "), r.code, time.Since(start).Round(time.Millisecond))
		if args[0] == "restore" {
			t.Logf("restore's output:\n%s%s", r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "not every volume") {
			t.Errorf("docker backup %s left volumes: %v", strings.Join(args, " "), r)
		}
		return r
	}
	deploy := s.Cmd("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns)
	deploy.dir, deploy.env = dir, append(deploy.env, vars...)
	if r := deploy.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	task := func(n *swarmNode) func() error {
		return func() error {
			ids := lines(n.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc))
			if len(ids) != 1 {
				return fmt.Errorf("%d running containers on %s", len(ids), n.Name)
			}
			if r := n.Docker(t, "exec", ids[0], "/bin/busybox", "test", "-e", "/srv/files/ready"); r.code != 0 {
				return fmt.Errorf("not ready: %v", r)
			}
			return nil
		}
	}
	eventually(t, 2*time.Minute, "the files service to run on worker 2", task(s.Worker2))
	if r := backup("up"); r.code != 0 {
		t.Fatalf("up: %v", r)
	}
	// The drill restores the snapshot into throwaway volumes on the manager's engine.
	if r := backup("verify"); r.code != 0 || !strings.Contains(r.stdout, " files and folders, 8 bytes restored and verified") {
		t.Fatalf("verify on the stack: %v", r)
	}
	want := "a=one\nd/b=two\nready=\n"

	// change changes the volume's files through the service's container on n.
	change := func(n *swarmNode) {
		t.Helper()
		id := lines(n.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc))[0]
		n.MustDocker(t, "exec", id, "/bin/sh", "-c", "cd /srv/files && echo changed > a && /bin/busybox rm d/b && echo new > c")
	}
	changed := "a=changed\nc=new\nready=\n"
	change(s.Worker2)
	if got := volumeFiles(t, s.Worker2, volume); got != changed {
		t.Fatalf("worker 2's volume after the change holds\n%s", got)
	}

	watch := watchScale(t, s, svc)
	r := backup("restore", "--yes", "files")
	seen := watch()
	if r.code != 0 {
		t.Fatalf("restore: %v", r)
	}
	if !strings.Contains(r.stdout, "into "+volume+" on node "+s.Worker2.Hostname) {
		t.Errorf("restore does not say it restored on worker 2: %v", r)
	}

	t.Run("worker 2's volume holds the snapshot's files", func(t *testing.T) {
		if got := volumeFiles(t, s.Worker2, volume); got != want {
			t.Errorf("worker 2's volume holds\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("the service was at 0 for the swap alone and is back, running", func(t *testing.T) {
		checkScaleSeen(t, seen)
		eventually(t, time.Minute, "the service to run on worker 2 again", task(s.Worker2))
		if got := strings.TrimSpace(s.Manager.MustDocker(t, "service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}} {{index .Spec.Labels \"io.docker-backup.scaled-from\"}}", svc)); got != "1" {
			t.Errorf("replicas and record %q, want 1 and none", got)
		}
	})
	t.Run("nothing of the run left but the rollback volume", func(t *testing.T) {
		checkNothingLeft(t, s, ns)
		rollbacks := lines(s.Worker2.MustDocker(t, "volume", "ls", "-q", "--filter", "label=io.docker-backup.rollback="+volume))
		if len(rollbacks) != 1 {
			t.Fatalf("rollback volumes on worker 2: %q, want one", rollbacks)
		}
		if got := volumeFiles(t, s.Worker2, rollbacks[0]); got != changed {
			t.Errorf("the rollback volume holds\n%s\nwant the replaced content\n%s", got, changed)
		}
	})

	// The task moves to worker 1, where its volume is new: the restore goes there.
	s.Manager.MustDocker(t, "service", "update", "--detach", "--no-resolve-image",
		"--constraint-rm", "node.hostname == "+s.Worker2.Hostname, "--constraint-add", "node.hostname == "+s.Worker1.Hostname, svc)
	eventually(t, 2*time.Minute, "the files service to run on worker 1", task(s.Worker1))
	change(s.Worker1)
	if r := backup("restore", "--yes", "--no-rollback", "files"); r.code != 0 {
		t.Fatalf("restore after the move: %v", r)
	}
	t.Run("the restore after the move went to worker 1's volume", func(t *testing.T) {
		if got := volumeFiles(t, s.Worker1, volume); got != want {
			t.Errorf("worker 1's volume holds\n%s\nwant\n%s", got, want)
		}
		eventually(t, time.Minute, "the service to run on worker 1 again", task(s.Worker1))
		checkNothingLeft(t, s, ns)
		if left := lines(s.Worker1.MustDocker(t, "volume", "ls", "-q", "--filter", "label=io.docker-backup.rollback")); len(left) > 0 {
			t.Errorf("rollback volumes on worker 1 after --no-rollback: %q", left)
		}
	})

	t.Run("Ctrl-C while the service is at 0 scales it back", func(t *testing.T) {
		change(s.Worker1)
		cmd := exec.Command("docker", "backup", "-p", ns, "restore", "--yes", "files")
		cmd.Dir, cmd.Env = dir, append(append(append([]string{}, env.base...), s.Env()...), vars...)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			select {
			case <-exited:
			default:
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		eventually(t, 2*time.Minute, "the service at 0 replicas", func() error {
			select {
			case err := <-exited:
				exited <- err
				t.Fatalf("restore ended before the service was at 0: %v\n%s", err, out.String())
			default:
			}
			got := strings.TrimSpace(s.Manager.MustDocker(t, "service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", svc))
			if got != "0" {
				return fmt.Errorf("%s replicas", got)
			}
			return nil
		})
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := exitCodeOf(<-exited); code != 130 {
			t.Errorf("interrupted restore: exit code %d, want 130\n%s", code, out.String())
		}
		exited <- nil
		t.Logf("interrupted restore's output:\n%s", out.String())
		if got := strings.TrimSpace(s.Manager.MustDocker(t, "service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}} {{index .Spec.Labels \"io.docker-backup.scaled-from\"}}", svc)); got != "1" {
			t.Errorf("replicas and record %q after Ctrl-C, want 1 and none", got)
		}
		eventually(t, time.Minute, "the service to run on worker 1 again", task(s.Worker1))
		if got := volumeFiles(t, s.Worker1, volume); got != want && got != changed {
			t.Errorf("worker 1's volume after an interrupted restore holds\n%s\nwant all old or all new", got)
		}
		checkNothingLeft(t, s, ns)
	})
}

// volumeFiles lists the files of a volume of node n, with their content, one
// path=content a line, sorted: read by a container of the restic image there.
func volumeFiles(t *testing.T, n *swarmNode, volume string) string {
	t.Helper()
	out := n.MustDocker(t, "run", "--rm", "--network", "none", "-v", volume+":/v:ro", "--entrypoint", "/bin/sh", env.resticImage,
		"-c", `cd /v && /bin/busybox find . -type f | /bin/busybox sort | while read f; do echo "${f#./}=$(/bin/busybox cat "$f")"; done`)
	return out
}

// scaleSeen is one look at the service while restore ran: its replica count and the
// kinds of the run's jobs that existed then.
type scaleSeen struct {
	replicas string
	jobs     []string
}

// watchScale looks at the service and at the run's jobs until the returned func is
// called, and returns what it saw.
func watchScale(t *testing.T, s *swarm, svc string) func() []scaleSeen {
	ctx, cancel := context.WithCancel(context.Background())
	var seen []scaleSeen
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			jobs, jerr := s.Manager.run("service", "ls", "--filter", "label=io.docker-backup.helper=true", "--format", `{{.Name}}`)
			rep, rerr := s.Manager.run("service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", svc)
			if jerr == nil && rerr == nil {
				var kinds []string
				for _, name := range lines(jobs) {
					if k, err := s.Manager.run("service", "inspect", "--format", `{{index .Spec.Labels "io.docker-backup.kind"}}`, name); err == nil {
						kinds = append(kinds, strings.TrimSpace(k))
					}
				}
				seen = append(seen, scaleSeen{replicas: strings.TrimSpace(rep), jobs: kinds})
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	return func() []scaleSeen {
		cancel()
		wg.Wait()
		return seen
	}
}

// checkScaleSeen checks that the service was at 1 while the staging restore ran, at 0
// while the swap ran, and at 0 at no other time but between those.
func checkScaleSeen(t *testing.T, seen []scaleSeen) {
	t.Helper()
	var restoreAt, swapAt, zeroFirst, zeroLast = -1, -1, -1, -1
	for i, s := range seen {
		if slices.Contains(s.jobs, "restore") {
			restoreAt = i
			if s.replicas != "1" {
				t.Errorf("the staging restore ran while the service had %s replicas", s.replicas)
			}
		}
		if slices.Contains(s.jobs, "restore-swap") {
			if swapAt < 0 {
				swapAt = i
			}
			if s.replicas != "0" {
				t.Errorf("the swap ran while the service had %s replicas", s.replicas)
			}
		}
		if s.replicas == "0" {
			if zeroFirst < 0 {
				zeroFirst = i
			}
			zeroLast = i
		}
	}
	t.Logf("%d looks: restore job last seen at %d, swap job first at %d, at 0 from %d to %d", len(seen), restoreAt, swapAt, zeroFirst, zeroLast)
	if swapAt < 0 || zeroFirst < 0 {
		t.Fatalf("the swap job or the service at 0 never seen")
	}
	if restoreAt >= zeroFirst {
		t.Errorf("the service was at 0 before the staging restore ended")
	}
	if zeroLast == len(seen)-1 {
		t.Errorf("the service was still at 0 when restore ended")
	}
}

// checkNothingLeft checks that no job, secret or container of the stack's runs is left
// on any node, nor a volume of theirs but rollback volumes.
func checkNothingLeft(t *testing.T, s *swarm, ns string) {
	t.Helper()
	eventually(t, 30*time.Second, "the run's jobs, secrets, containers and volumes to be gone", func() error {
		var left []string
		for _, args := range [][]string{{"service", "ls", "-q", "--filter", "label=io.docker-backup.project=" + ns},
			{"secret", "ls", "-q", "--filter", "label=io.docker-backup.project=" + ns}} {
			left = append(left, lines(s.Manager.MustDocker(t, args...))...)
		}
		for _, n := range s.Nodes() {
			for _, id := range lines(n.MustDocker(t, "ps", "-aq", "--filter", "label=io.docker-backup.project="+ns)) {
				left = append(left, n.Name+": container "+id)
			}
			for _, v := range lines(n.MustDocker(t, "volume", "ls", "--filter", "label=io.docker-backup.project="+ns, "--format", `{{.Name}} {{.Label "io.docker-backup.rollback"}}`)) {
				if f := strings.Fields(v); len(f) < 2 {
					left = append(left, n.Name+": volume "+v)
				}
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("left: %q", left)
		}
		return nil
	})
}

// syncBuffer is a strings.Builder that a command writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
