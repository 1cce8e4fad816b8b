//go:build e2e

package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Stop removes the swarm: its stacks and services, then each node leaves (workers
// first), then the engines stop (secondEngine.Stop: dockerd, its processes, cgroups,
// mounts, network namespace, folder), then the bridge's namespace goes, and with it the
// veths. It runs once; a part that fails is reported and the rest still runs.
func (s *swarm) Stop(t reporter) {
	t.Helper()
	s.stop.Do(func() {
		start := time.Now()
		if s.Manager != nil && s.Manager.running() {
			s.removeServices(t)
		}
		s.leave(t)
		var wg sync.WaitGroup
		for _, n := range s.Nodes() {
			wg.Go(func() { n.Stop(t) })
		}
		wg.Wait()
		if _, err := os.Stat(netnsPath(s.netns)); err == nil {
			if err := ipCmd("netns", "delete", s.netns); err != nil {
				t.Errorf("removing the swarm's bridge: %v", err)
			}
		}
		t.Logf("swarm %s: stopped and removed in %s", s.name, time.Since(start).Round(time.Millisecond))
	})
}

// running tells whether the node's dockerd was started and has not exited.
func (n *swarmNode) running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// removeServices removes every stack and service on the swarm, which is the test's own.
// Their containers are stopped as the engines stop, if not before.
func (s *swarm) removeServices(t reporter) {
	t.Helper()
	m := s.Manager
	out, err := m.run("stack", "ls", "--format", "{{.Name}}")
	if err != nil {
		t.Errorf("listing the swarm's stacks: %v", err)
	}
	for _, stack := range lines(out) {
		if _, err := m.run("stack", "rm", stack); err != nil {
			t.Errorf("removing the stack %s: %v", stack, err)
		}
	}
	out, err = m.run("service", "ls", "-q")
	if err != nil {
		t.Errorf("listing the swarm's services: %v", err)
	}
	if ids := lines(out); len(ids) > 0 {
		if _, err := m.run(append([]string{"service", "rm"}, ids...)...); err != nil {
			t.Errorf("removing the swarm's services: %v", err)
		}
	}
}

// leave has each running node leave the swarm, the workers before the manager (which
// must force it: it is the last manager).
func (s *swarm) leave(t reporter) {
	t.Helper()
	var wg sync.WaitGroup
	for _, n := range []*swarmNode{s.Worker1, s.Worker2} {
		if n != nil && n.running() && n.NodeID != "" {
			wg.Go(func() {
				if _, err := n.run("swarm", "leave"); err != nil {
					t.Errorf("%v", err)
				}
			})
		}
	}
	wg.Wait()
	if m := s.Manager; m != nil && m.running() && m.NodeID != "" {
		if _, err := m.run("swarm", "leave", "--force"); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// checkSwarmGone checks that a stopped swarm left nothing: of each node what
// checkEngineGone checks (process, cgroup, mount, namespace, folder), the bridge's
// namespace, and no link of the swarm on the host.
func checkSwarmGone(t reporter, s *swarm) {
	t.Helper()
	for _, n := range s.Nodes() {
		checkEngineGone(t, n.secondEngine)
	}
	if _, err := os.Stat(netnsPath(s.netns)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the swarm's bridge namespace %s is still there (%v)", s.netns, err)
	}
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Errorf("listing the host's links: %v", err)
	}
	for _, l := range lines(string(out)) {
		if strings.Contains(l, "dbe2e"+s.tag) {
			t.Errorf("a link of the swarm is on the host: %s", l)
		}
	}
}

// netnsPath is where `ip netns` keeps the namespace name.
func netnsPath(name string) string { return filepath.Join("/var/run/netns", name) }
