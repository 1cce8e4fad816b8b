//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSwarmStackUp deploys a stack with a volumes service (no stop) pinned to worker 2
// and a global stop: true one on worker 1 on a three-node swarm, the helper image
// loaded into every node, and MinIO listening on the manager's address (in its network
// namespace): `up` through the manager fails the global service with one line (exit 1) and
// backs the other's volume up with a job on worker 2; the snapshot holds exactly the
// volume's files
// under the stack's one host (<stack>@swarm-…) with the node's tag, no job's spec ever
// showed the password or the S3 secret, and nothing of the run is left on any node.
func TestSwarmStackUp(t *testing.T) {
	t.Parallel()
	agentImage := makeImage(t)
	s := startSwarm(t, agentImage, env.resticImage)
	ns := s.name + "-shop"
	m := startMinioIn(t, s.Manager)
	repo := "s3:http://" + m.addr + "/dbe2e/" + ns

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-up"))); err != nil {
		t.Fatal(err)
	}
	password := "pw-" + randomHex(8)
	pwFile := filepath.Join(dir, "restic.pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.initRepo(t, repo, pwFile)
	vars := []string{"IMAGE=" + env.resticImage, "WORKER1_HOSTNAME=" + s.Worker1.Hostname, "WORKER2_HOSTNAME=" + s.Worker2.Hostname, "REPO=" + repo,
		"AGENT_IMAGE=" + agentImage, "S3_KEY_ID=" + m.accessKey, "S3_SECRET=" + m.secretKey,
		// The nodes' engines have no NAT (--iptables=false): helpers use their node's
		// network, where the manager's address is.
		"DOCKER_BACKUP_NETWORK=host"}
	deploy := s.Cmd("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns)
	deploy.dir, deploy.env = dir, append(deploy.env, vars...)
	if r := deploy.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	eventually(t, 2*time.Minute, "the files service to run on worker 2 with its files written", func() error {
		ids := lines(s.Worker2.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+ns+"_files"))
		if len(ids) != 1 {
			return fmt.Errorf("%d running containers on worker 2", len(ids))
		}
		if r := s.Worker2.Docker(t, "exec", ids[0], "/bin/sh", "-c", "test -e /srv/files/ready"); r.code != 0 {
			return fmt.Errorf("not ready: %v", r)
		}
		return nil
	})

	// Every service of ours the manager has while up runs, inspected as the user would.
	watch := watchJobs(t, s)
	start := time.Now()
	c := s.Cmd("backup", "-p", ns, "up")
	c.dir, c.env = dir, append(c.env, vars...)
	r := c.run()
	took := time.Since(start)
	specs := watch()
	t.Logf("up through the manager: exit code %d in %s; %d job spec(s) seen", r.code, took.Round(time.Millisecond), len(specs))
	refused := "service held not backed up on the stack: " + ns + "_held is a global swarm service, which cannot be scaled to 0 for stop: true"
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, refused) {
		t.Fatalf("up: want exit code 1 and %q: %v", refused, r)
	}

	t.Run("the job ran on worker 2 and never showed a secret", func(t *testing.T) {
		if len(specs) != 1 {
			t.Fatalf("%d jobs of the run seen on the manager, want 1 (files)", len(specs))
		}
		for _, spec := range specs {
			for _, secret := range []string{password, m.secretKey} {
				if strings.Contains(spec, secret) {
					t.Errorf("`docker service inspect` of a job shows a secret:\n%s", spec)
				}
			}
			if !strings.Contains(spec, "node.id=="+s.Worker2.NodeID) || !strings.Contains(spec, `"Condition": "none"`) {
				t.Errorf("a job not pinned to worker 2 as a one-shot service:\n%s", spec)
			}
		}
	})

	t.Run("the snapshot holds the volume's files in the stack's series", func(t *testing.T) {
		var snaps []struct {
			ID       string   `json:"short_id"`
			Hostname string   `json:"hostname"`
			Tags     []string `json:"tags"`
		}
		out := m.resticOut(t, repo, pwFile, "snapshots", "--json")
		if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 1 {
			t.Fatalf("snapshots: %v\n%s", err, out)
		}
		if !strings.HasPrefix(snaps[0].Hostname, ns+"@swarm-") || !slices.Contains(snaps[0].Tags, "node="+s.Worker2.Hostname) {
			t.Errorf("snapshot's host %q, tags %q: want %s@swarm-… and node=%s", snaps[0].Hostname, snaps[0].Tags, ns, s.Worker2.Hostname)
		}
		files := snapshotFiles(t, m, repo, pwFile, snaps[0].ID)
		if len(files) != 3 || !strings.HasSuffix(files[0], "/a") || !strings.HasSuffix(files[1], "/d/b") || !strings.HasSuffix(files[2], "/ready") {
			t.Fatalf("the snapshot's files are %q, want a, d/b and ready", files)
		}
		for path, want := range map[string]string{files[0]: "one\n", files[1]: "two\n"} {
			if got := m.resticOut(t, repo, pwFile, "dump", snaps[0].ID, path); got != want {
				t.Errorf("%s holds %q, want %q", path, got, want)
			}
		}
	})

	t.Run("nothing of the run is left on any node", func(t *testing.T) {
		checkNothingLeft(t, s, ns)
	})
}

// watchJobs inspects, until the returned func is called, every service of ours on the
// swarm's manager (label io.docker-backup.helper=true) as `docker service inspect`
// shows it, and returns each one's first inspection.
func watchJobs(t *testing.T, s *swarm) func() []string {
	ctx, cancel := context.WithCancel(context.Background())
	seen := map[string]string{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			ids, err := s.Manager.run("service", "ls", "-q", "--filter", "label=io.docker-backup.helper=true")
			if err == nil {
				for _, id := range lines(ids) {
					if _, ok := seen[id]; !ok {
						if out, err := s.Manager.run("service", "inspect", id); err == nil {
							seen[id] = out
						}
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	return func() []string {
		cancel()
		wg.Wait()
		var out []string
		for _, v := range seen {
			out = append(out, v)
		}
		return out
	}
}

// minioIn is MinIO listening on a swarm node's address, in its network namespace: every
// node reaches it; the host reaches it only through nsenter.
type minioIn struct {
	addr, netns          string
	accessKey, secretKey string
}

// startMinioIn runs the MinIO server built by e2e/images/build.sh in node's network
// namespace on its address, with a temporary data folder and random credentials, waits
// until it is ready, and stops it when the test ends.
func startMinioIn(t *testing.T, node *swarmNode) *minioIn {
	t.Helper()
	m := &minioIn{addr: node.Addr + ":9000", netns: netnsPath(node.Netns), accessKey: "dbe2e" + randomHex(6), secretKey: randomHex(16)}
	exited := launchMinio(t, []string{"nsenter", "--net=" + m.netns}, m.addr, node.Addr+":9001", m.accessKey, m.secretKey)
	eventually(t, time.Minute, "MinIO to be ready on the manager's address", func() error {
		exited()
		r := cmdSpec{argv: []string{"nsenter", "--net=" + m.netns, "curl", "-sf", "http://" + m.addr + "/minio/health/ready"}}.run()
		if r.code != 0 {
			return fmt.Errorf("%v", r)
		}
		return nil
	})
	return m
}

// restic prepares the host's restic on repo, in the namespace MinIO listens in.
func (m *minioIn) restic(repo, passwordFile string, args ...string) cmdSpec {
	return cmdSpec{argv: append([]string{"nsenter", "--net=" + m.netns, env.resticBin, "--no-cache"}, args...),
		env: []string{"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD_FILE=" + passwordFile,
			"AWS_ACCESS_KEY_ID=" + m.accessKey, "AWS_SECRET_ACCESS_KEY=" + m.secretKey}}
}

// resticOut runs restic and returns its output, failing the test unless it succeeds.
func (m *minioIn) resticOut(t *testing.T, repo, passwordFile string, args ...string) string {
	t.Helper()
	r := m.restic(repo, passwordFile, args...).run()
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return r.stdout
}
