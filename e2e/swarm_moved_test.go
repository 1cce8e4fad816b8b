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

// TestSwarmStackMoved deploys a stack with a volumes service (no stop) pinned to worker
// 1, its files written into its volume there, with retention keep_last: 1 and a failure
// webhook; `up` twice through the manager keeps the one latest snapshot (retention
// applies on a stack). The constraint then moves the task to worker 2, whose volume of
// the same name is new and empty: `up` says so in one line naming the service and both
// nodes, exits 1, the webhook gets the failure, and plain restic still shows the
// snapshot of worker 1 with the files (nothing empty stored, nothing forgotten). Once a
// file is put into worker 2's volume, `up` backs it up as usual and retention keeps
// that snapshot alone.
func TestSwarmStackMoved(t *testing.T) {
	t.Parallel()
	agentImage := makeImage(t)
	s := startSwarm(t, agentImage, env.resticImage)
	ns := s.name + "-moved"
	svc := ns + "_files"
	m := startMinioIn(t, s.Manager)
	repo := "s3:http://" + m.addr + "/dbe2e/" + ns
	hook := newReceiver(t)

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-moved"))); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "restic.pw")
	if err := os.WriteFile(pwFile, []byte("pw-"+randomHex(8)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.initRepo(t, repo, pwFile)
	vars := []string{"IMAGE=" + env.resticImage, "NODE_HOSTNAME=" + s.Worker1.Hostname, "REPO=" + repo,
		"AGENT_IMAGE=" + agentImage, "S3_KEY_ID=" + m.accessKey, "S3_SECRET=" + m.secretKey,
		"HOOK=" + hook.url + "/alert", "DOCKER_BACKUP_NETWORK=host"}
	deploy := s.Cmd("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns)
	deploy.dir, deploy.env = dir, append(deploy.env, vars...)
	if r := deploy.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	// taskOn is the service's one running container on node, once it is there and
	// ready says so.
	taskOn := func(node *swarmNode, ready func(id string) error) {
		eventually(t, 2*time.Minute, "the files service to run on "+node.Name, func() error {
			ids := lines(node.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc))
			if len(ids) != 1 {
				return fmt.Errorf("%d running containers on %s", len(ids), node.Name)
			}
			return ready(ids[0])
		})
	}
	taskOn(s.Worker1, func(id string) error {
		if r := s.Worker1.Docker(t, "exec", id, "/bin/sh", "-c", "test -e /srv/files/ready"); r.code != 0 {
			return fmt.Errorf("not ready: %v", r)
		}
		return nil
	})
	up := func(want int) result {
		t.Helper()
		c := s.Cmd("backup", "-p", ns, "up")
		c.dir, c.env = dir, append(c.env, vars...)
		start := time.Now()
		r := c.run()
		t.Logf("up through the manager: exit code %d in %s", r.code, time.Since(start).Round(time.Millisecond))
		if r.code != want {
			t.Fatalf("up: want exit code %d: %v", want, r)
		}
		return r
	}
	up(0)
	up(0)
	snaps := stackSnapshots(t, m, repo, pwFile)
	if len(snaps) != 1 || !slices.Contains(snaps[0].Tags, "node="+s.Worker1.Hostname) {
		t.Fatalf("after two ups with keep_last: 1, snapshots %+v: want one, of %s", snaps, s.Worker1.Hostname)
	}
	kept := snaps[0].ID
	if got := hook.requests(); len(got) != 0 {
		t.Errorf("the failure webhook got %d requests from ups that succeeded", len(got))
	}

	// The task moves to worker 2 (SEED removed: the stand-in writes nothing there).
	move := s.Cmd("service", "update", "--detach", "--no-resolve-image", "--env-rm", "SEED",
		"--constraint-rm", "node.hostname=="+s.Worker1.Hostname, "--constraint-add", "node.hostname=="+s.Worker2.Hostname, svc)
	if r := move.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	taskOn(s.Worker2, func(id string) error {
		if r := s.Worker2.Docker(t, "exec", id, "/bin/sh", "-c", "test -z \"$(/bin/busybox ls -A /srv/files)\""); r.code != 0 {
			t.Fatalf("the volume on worker 2 is not empty: %v", r)
		}
		return nil
	})
	r := up(1)
	want := fmt.Sprintf("service files moved from %s to %s, where its volume %s is new and empty", s.Worker1.Hostname, s.Worker2.Hostname, ns+"_files")
	i := slices.IndexFunc(lines(r.stdout+r.stderr), func(l string) bool { return strings.Contains(l, want) })
	if i < 0 {
		t.Errorf("up after the move does not say %q: %v", want, r)
	} else {
		t.Logf("up after the move: %s", lines(r.stdout + r.stderr)[i])
	}
	t.Run("the failure was posted", func(t *testing.T) {
		var alerts []notice
		for _, n := range hook.notices(t) {
			if n.Service == "files" && n.Status == "failed" && strings.Contains(n.Error, "new and empty") && strings.Contains(n.Error, s.Worker2.Hostname) {
				alerts = append(alerts, n)
			}
		}
		if len(alerts) != 1 {
			t.Errorf("notices %+v, want one failure of files naming %s", hook.notices(t), s.Worker2.Hostname)
		}
	})
	t.Run("the snapshot of worker 1 is kept with its files", func(t *testing.T) {
		snaps := stackSnapshots(t, m, repo, pwFile)
		if len(snaps) != 1 || snaps[0].ID != kept {
			t.Fatalf("snapshots %+v, want %s alone", snaps, kept)
		}
		files := snapshotFiles(t, m, repo, pwFile, kept)
		if len(files) != 3 || !strings.HasSuffix(files[0], "/a") || !strings.HasSuffix(files[1], "/d/b") || !strings.HasSuffix(files[2], "/ready") {
			t.Fatalf("the snapshot's files are %q, want a, d/b and ready", files)
		}
		for path, want := range map[string]string{files[0]: "one\n", files[1]: "two\n"} {
			if got := m.resticOut(t, repo, pwFile, "dump", kept, path); got != want {
				t.Errorf("%s holds %q, want %q", path, got, want)
			}
		}
	})

	// Data put into worker 2's volume (as a restore would) is backed up as usual, and
	// retention keeps that snapshot alone.
	ids := lines(s.Worker2.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc))
	s.Worker2.MustDocker(t, "exec", ids[0], "/bin/sh", "-c", "echo back > /srv/files/restored")
	up(0)
	snaps = stackSnapshots(t, m, repo, pwFile)
	if len(snaps) != 1 || !slices.Contains(snaps[0].Tags, "node="+s.Worker2.Hostname) {
		t.Fatalf("snapshots %+v: want one, of %s", snaps, s.Worker2.Hostname)
	}
	if files := snapshotFiles(t, m, repo, pwFile, snaps[0].ID); len(files) != 1 || !strings.HasSuffix(files[0], "/restored") {
		t.Errorf("the snapshot of worker 2 holds %q, want restored", files)
	}
}

// stackSnapshot is what the test reads of a snapshot of `restic snapshots --json`.
type stackSnapshot struct {
	ID       string   `json:"short_id"`
	Hostname string   `json:"hostname"`
	Tags     []string `json:"tags"`
}

// stackSnapshots lists the repository's snapshots with the host's restic.
func stackSnapshots(t *testing.T, m *minioIn, repo, pwFile string) []stackSnapshot {
	t.Helper()
	var snaps []stackSnapshot
	out := m.resticOut(t, repo, pwFile, "snapshots", "--json")
	if err := json.Unmarshal([]byte(out), &snaps); err != nil {
		t.Fatalf("snapshots: %v\n%s", err, out)
	}
	return snaps
}

// snapshotFiles are the paths of the files in snapshot id, sorted.
func snapshotFiles(t *testing.T, m *minioIn, repo, pwFile, id string) []string {
	t.Helper()
	var files []string
	for _, l := range lines(m.resticOut(t, repo, pwFile, "ls", "--json", id)) {
		var n struct{ Type, Path string }
		if json.Unmarshal([]byte(l), &n) == nil && n.Type == "file" {
			files = append(files, n.Path)
		}
	}
	slices.Sort(files)
	return files
}
