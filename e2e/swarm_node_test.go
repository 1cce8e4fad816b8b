//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// swarmNode is one engine of a swarm: a secondEngine (Socket, DataRoot, Netns, Docker,
// Host…) whose dockerd has its own hostname and its own view of the files, in which its
// socket lies over /run/docker.sock: a task that binds /var/run/docker.sock reaches
// its node's engine, as on a machine of its own.
type swarmNode struct {
	*secondEngine
	// Name is the node's role: manager, worker1 or worker2.
	Name string
	// Hostname is the node's hostname, for `node.hostname==` constraints.
	Hostname string
	// Addr is the node's address on the swarm's subnet (its only way out).
	Addr string
	// NodeID is the node's swarm ID, for `node.id==` constraints.
	NodeID string

	link string // the name of its veth end on the bridge
}

// MustDocker runs docker on the node's socket and fails the test unless it succeeds;
// it returns stdout.
func (n *swarmNode) MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	r := n.Docker(t, args...)
	if r.code != 0 {
		t.Fatalf("on the swarm's %s: %v", n.Name, r)
	}
	return r.stdout
}

// run is MustDocker for the harness itself, which reports errors rather than failing a
// test.
func (n *swarmNode) run(args ...string) (string, error) {
	r := cmdSpec{argv: append([]string{"docker", "-H", n.Host()}, args...)}.run()
	if r.code != 0 {
		return "", fmt.Errorf("on the swarm's %s: %v", n.Name, r)
	}
	return strings.TrimSpace(r.stdout), nil
}

// start starts the node's dockerd and lays its socket over /run/docker.sock in its
// mount namespace.
func (n *swarmNode) start() error {
	if err := n.secondEngine.start(); err != nil {
		return err
	}
	return n.bindSocket()
}

// bindSocket bind-mounts the node's socket over /run/docker.sock (/var/run/docker.sock
// on this host) in dockerd's mount namespace, which its containerd, shims and runc
// share: a container's bind of /var/run/docker.sock is resolved there. Until then that
// path is the host's socket, so it runs before any container does.
func (n *swarmNode) bindSocket() error {
	const target = "/run/docker.sock"
	if _, err := os.Stat(target); err != nil {
		return fmt.Errorf("the swarm's %s: its socket goes over the host's %s, which is not there: %w", n.Name, target, err)
	}
	mntns := fmt.Sprintf("/proc/%d/ns/mnt", n.cmd.Process.Pid)
	if out, err := exec.Command("nsenter", "--mount="+mntns, "mount", "--bind", n.Socket, target).CombinedOutput(); err != nil {
		return fmt.Errorf("the swarm's %s: mounting its socket over %s: %w: %s", n.Name, target, err, bytes.TrimSpace(out))
	}
	return nil
}

// savedImages writes images from the host's engine to one file for every node to load
// and returns its path ("" for no images). The file is made once a run for each list
// of images and kept in the run's folder: the swarms of the tests after the first load
// it as it is.
func savedImages(images []string) (string, error) {
	if len(images) == 0 {
		return "", nil
	}
	key := strings.Join(images, " ")
	savedImageFiles.mu.Lock()
	if savedImageFiles.m == nil {
		savedImageFiles.m = map[string]*savedImageFile{}
	}
	f := savedImageFiles.m[key]
	if f == nil {
		f = &savedImageFile{path: filepath.Join(env.tmp, fmt.Sprintf("swarm-images-%d.tar", len(savedImageFiles.m)))}
		savedImageFiles.m[key] = f
	}
	savedImageFiles.mu.Unlock()
	f.once.Do(func() {
		cmd := exec.Command("docker", append([]string{"save", "-o", f.path}, images...)...)
		cmd.Env = env.base
		if out, err := cmd.CombinedOutput(); err != nil {
			f.err = fmt.Errorf("saving %s for the swarm's nodes: %w: %s", key, err, bytes.TrimSpace(out))
		}
	})
	return f.path, f.err
}

// savedImageFiles are the files of savedImages, by their list of images.
var savedImageFiles struct {
	mu sync.Mutex
	m  map[string]*savedImageFile
}

// savedImageFile is one file of savedImages: its path, and whether saving it failed.
type savedImageFile struct {
	once sync.Once
	path string
	err  error
}

// loadFile loads a file of saveImages into the node.
func (n *swarmNode) loadFile(path string) error {
	_, err := n.run("load", "-q", "-i", path)
	return err
}

// form makes the manager a swarm of its own and has the workers join it, then waits
// until the manager sees the three nodes ready, and records their IDs.
func (s *swarm) form() error {
	m := s.Manager
	if _, err := m.run("swarm", "init", "--advertise-addr", m.Addr); err != nil {
		return err
	}
	token, err := m.run("swarm", "join-token", "-q", "worker")
	if err != nil {
		return err
	}
	err = inParallel([]*swarmNode{s.Worker1, s.Worker2}, func(n *swarmNode) error {
		_, err := n.run("swarm", "join", "--token", token, "--advertise-addr", n.Addr, m.Addr+":2377")
		return err
	})
	if err != nil {
		return err
	}
	err = inParallel(s.Nodes(), func(n *swarmNode) (err error) {
		n.NodeID, err = n.run("info", "--format", "{{.Swarm.NodeID}}")
		return err
	})
	if err != nil {
		return err
	}
	return s.waitReady()
}

// waitReady polls the manager's node list until it shows the three nodes ready, for
// swarmStartTimeout.
func (s *swarm) waitReady() error {
	var want []string
	for _, n := range s.Nodes() {
		want = append(want, n.NodeID+" Ready")
	}
	slices.Sort(want)
	err := poll(swarmStartTimeout, func() error {
		out, err := s.Manager.run("node", "ls", "--format", "{{.ID}} {{.Status}}")
		got := lines(out)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			return fmt.Errorf("the manager lists %q (%v)", got, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the swarm's 3 nodes to be ready: %w", err)
	}
	return nil
}
