//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSwarmHarness checks the swarm harness itself: three ready nodes with hostnames of
// their own; docker and the plugin reach the manager, directly and through a counting
// proxy; a stack's services run on the workers their constraints name, with the named
// volume on its worker's engine alone; a replicated job pinned by node ID runs on its
// node, and its bind of /var/run/docker.sock reaches that node's engine, not the host's.
// That Stop leaves nothing behind, startSwarm's Cleanup checks.
func TestSwarmHarness(t *testing.T) {
	t.Parallel()
	s := startSwarm(t, env.dbImage, env.resticImage)

	t.Run("nodes", func(t *testing.T) {
		var want, hostnames []string
		for _, n := range s.Nodes() {
			status := ""
			if n == s.Manager {
				status = " Leader"
			}
			want = append(want, n.NodeID+" "+n.Hostname+" Ready"+status)
			if got := strings.TrimSpace(n.MustDocker(t, "info", "--format", "{{.Name}}")); got != n.Hostname {
				t.Errorf("the %s's engine is named %q, want its hostname %q", n.Name, got, n.Hostname)
			}
			hostnames = append(hostnames, n.Hostname)
		}
		got := lines(s.Manager.MustDocker(t, "node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}"))
		for i := range got {
			got[i] = strings.TrimSpace(got[i])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the manager lists the nodes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if slices.Sort(hostnames); len(slices.Compact(hostnames)) != 3 {
			t.Errorf("the nodes' hostnames are not distinct: %q", hostnames)
		}
	})

	t.Run("client", func(t *testing.T) {
		if r := s.Cmd("info", "--format", "{{.Name}}").run(); r.code != 0 || strings.TrimSpace(r.stdout) != s.Manager.Hostname {
			t.Errorf("want the manager (%s) through Env: %v", s.Manager.Hostname, r)
		}
		if r := s.Backup(t, "version"); r.code != 0 || !strings.Contains(r.stdout, pluginVersion) {
			t.Errorf("want the plugin's version through Env: %v", r)
		}
		e := s.Remote(t)
		if r := e.Cmd("info", "--format", "{{.Name}}").run(); r.code != 0 || strings.TrimSpace(r.stdout) != s.Manager.Hostname {
			t.Errorf("want the manager (%s) through the proxy: %v", s.Manager.Hostname, r)
		}
		e.Proxy.Reset()
		if r := e.Backup(t, "version"); r.code != 0 || !strings.Contains(r.stdout, pluginVersion) {
			t.Errorf("want the plugin's version through the proxy: %v", r)
		}
		checkProxied(t, e, "docker backup version")
	})

	t.Run("stack", func(t *testing.T) { checkSwarmStack(t, s) })
	t.Run("job", func(t *testing.T) { checkSwarmJob(t, s) })
}

// checkSwarmStack deploys e2e/testdata/swarm-harness/stack.yaml and checks that each
// service runs on the worker it is pinned to, and that the named volume is on worker
// 1's engine alone.
func checkSwarmStack(t *testing.T, s *swarm) {
	t.Helper()
	stack := s.name + "-smoke"
	spec := s.Cmd("stack", "deploy", "--resolve-image", "never", "--detach",
		"-c", filepath.Join(env.root, "e2e/testdata/swarm-harness/stack.yaml"), stack)
	spec.env = append(spec.env, "DB_IMAGE="+env.dbImage, "RESTIC_IMAGE="+env.resticImage,
		"WORKER1_HOSTNAME="+s.Worker1.Hostname, "WORKER2_HOSTNAME="+s.Worker2.Hostname)
	start := time.Now()
	if r := spec.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	placed := map[string]*swarmNode{stack + "_keeper": s.Worker1, stack + "_idler": s.Worker2}
	eventually(t, 2*time.Minute, "the stack's tasks to run on their nodes", func() error {
		for svc, n := range placed {
			out, err := s.Manager.run("service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}} {{.Error}}", svc)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(lines(out), func(l string) bool { return strings.HasPrefix(l, n.Hostname+" Running") }) {
				return fmt.Errorf("%s: want a task running on %s, the manager lists %q", svc, n.Hostname, lines(out))
			}
		}
		return nil
	})
	t.Logf("the stack's 2 tasks run on their workers %s after `docker stack deploy` began", time.Since(start).Round(time.Millisecond))

	for svc, want := range placed {
		for _, n := range s.Nodes() {
			got := lines(n.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc))
			if n == want && len(got) != 1 || n != want && len(got) != 0 {
				t.Errorf("%s: the %s's engine has %d containers of it; want 1 on %s, none elsewhere", svc, n.Name, len(got), want.Name)
			}
		}
		if got := lines(mustDocker(t, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name="+svc)); len(got) != 0 {
			t.Errorf("%s: the host's engine has containers of it: %q", svc, got)
		}
	}

	volume := stack + "_data"
	for _, n := range s.Nodes() {
		has := slices.Contains(lines(n.MustDocker(t, "volume", "ls", "--format", "{{.Name}}")), volume)
		if has != (n == s.Worker1) {
			t.Errorf("the volume %s is on the %s's engine: %t; want it on worker1's alone", volume, n.Name, has)
		}
	}
	if slices.Contains(lines(mustDocker(t, "volume", "ls", "--format", "{{.Name}}")), volume) {
		t.Errorf("the volume %s is on the host's engine", volume)
	}
	keeper := lines(s.Worker1.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+stack+"_keeper"))
	if len(keeper) == 1 {
		if got := strings.TrimSpace(s.Worker1.MustDocker(t, "exec", keeper[0], "cat", "/data/marker")); got != "kept" {
			t.Errorf("keeper's volume holds %q, want what keeper wrote into it", got)
		}
	}
}

// checkSwarmJob runs a replicated job pinned to worker 2 by its node ID that binds
// /var/run/docker.sock and asks the engine behind it for /info (socat, in the database
// image): the job's container is on worker 2's engine only, and the engine it reached
// is worker 2's.
func checkSwarmJob(t *testing.T, s *swarm) {
	t.Helper()
	job := s.name + "-job"
	start := time.Now()
	if r := s.Cmd("service", "create", "--detach", "--no-resolve-image", "--name", job,
		"--mode", "replicated-job", "--constraint", "node.id=="+s.Worker2.NodeID,
		"--mount", "type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock",
		"--entrypoint", "/bin/sh", env.dbImage,
		"-c", `printf 'GET /info HTTP/1.0\r\n\r\n' | socat -t 10 - UNIX-CONNECT:/var/run/docker.sock`,
	).run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	eventually(t, 2*time.Minute, "the job to complete", func() error {
		out, err := s.Manager.run("service", "ps", "--format", "{{.Node}} {{.CurrentState}} {{.Error}}", job)
		if err != nil {
			return err
		}
		if got := lines(out); len(got) != 1 || !strings.HasPrefix(got[0], s.Worker2.Hostname+" Complete") {
			return fmt.Errorf("want its one task complete on %s, the manager lists %q", s.Worker2.Hostname, got)
		}
		return nil
	})
	t.Logf("the job completed on worker2 %s after `docker service create` began", time.Since(start).Round(time.Millisecond))

	filter := "label=com.docker.swarm.service.name=" + job
	for _, n := range s.Nodes() {
		if got := lines(n.MustDocker(t, "ps", "-aq", "--filter", filter)); n == s.Worker2 && len(got) != 1 || n != s.Worker2 && len(got) != 0 {
			t.Errorf("the %s's engine has %d containers of the job; want 1 on worker2, none elsewhere", n.Name, len(got))
		}
	}
	if got := lines(mustDocker(t, "ps", "-aq", "--filter", filter)); len(got) != 0 {
		t.Errorf("the host's engine has containers of the job: %q", got)
	}
	ids := lines(s.Worker2.MustDocker(t, "ps", "-aq", "--filter", filter))
	if len(ids) != 1 {
		t.FailNow()
	}
	out := s.Worker2.MustDocker(t, "logs", ids[0])
	_, body, ok := strings.Cut(out, "\r\n\r\n")
	var info struct {
		Name  string
		Swarm struct{ NodeID string }
	}
	if !ok || json.Unmarshal([]byte(body), &info) != nil {
		t.Fatalf("the job printed no answer of /info:\n%s", out)
	}
	if info.Name != s.Worker2.Hostname || info.Swarm.NodeID != s.Worker2.NodeID {
		t.Errorf("the job's /var/run/docker.sock reached the engine %s (node %q), want worker2's: %s (node %s)",
			info.Name, info.Swarm.NodeID, s.Worker2.Hostname, s.Worker2.NodeID)
	}
}

// TestSwarmNodeKilled kills a worker's dockerd while a task runs on it, as a crash
// would, and checks that the swarm's Stop still removes everything (startSwarm's
// Cleanup): the shim, container and layer mount it left, the node's namespaces and
// folder, and the other two nodes as usual.
func TestSwarmNodeKilled(t *testing.T) {
	t.Parallel()
	s := startSwarm(t, env.resticImage)
	s.Manager.MustDocker(t, "service", "create", "--detach", "--no-resolve-image", "--name", s.name+"-sleeper",
		"--constraint", "node.id=="+s.Worker1.NodeID, "--entrypoint", "/bin/busybox", env.resticImage, "sleep", "600")
	eventually(t, time.Minute, "the task to run on worker1", func() error {
		if got := lines(s.Worker1.MustDocker(t, "ps", "-q")); len(got) != 1 {
			return fmt.Errorf("worker1 runs %d containers, want the task's", len(got))
		}
		return nil
	})
	if err := s.Worker1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.Worker1.exited
	if !slices.ContainsFunc(s.Worker1.stragglers(), s.Worker1.inCgroup) {
		t.Fatal("a killed dockerd left no container process: the case this test is for did not happen")
	}
}
