//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// swarm is a Docker swarm of three engines on this host, one manager and two workers,
// for one test: each node a dockerd in network, hostname and mount namespaces of its
// own (swarm_node_test.go), linked by a bridge in a namespace of its own
// (swarm_network_test.go). Nothing of it is on the host's network or engine; Stop
// removes all of it (swarm_cleanup_test.go).
type swarm struct {
	Manager, Worker1, Worker2 *swarmNode
	// Subnet is the nodes' private /24 (10.251.X.0/24), reachable only from the nodes.
	Subnet string

	name  string // runPrefix-swarm<hex>: every name of the swarm starts with it
	tag   string // the random part of name, in the names of the veth ends
	netns string // the namespace of the bridge that links the nodes
	stop  sync.Once
}

// swarmStartTimeout bounds the wait for the three nodes to be ready in the swarm once
// the workers have joined.
const swarmStartTimeout = time.Minute

// startSwarm starts a swarm for the test alone, loads images into each node (from the
// host's engine, through one `docker save` a run: savedImages) and waits until the
// three nodes are ready. Cleanup removes its stacks and services, leaves the swarm,
// stops the engines, removes the namespaces, links and folders, and fails the test if
// anything is left. Needs root, ip, nsenter and unshare.
func startSwarm(t *testing.T, images ...string) *swarm {
	t.Helper()
	s, err := newSwarm()
	if s != nil {
		t.Cleanup(func() {
			s.Stop(t)
			checkSwarmGone(t, s)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(t, images); err != nil {
		t.Fatal(err)
	}
	return s
}

// newSwarm names the swarm and makes each node's folder and network namespace and the
// links between them. On an error the caller stops what it returns, unless that is nil.
func newSwarm() (*swarm, error) {
	tag := randomHex(3)
	sub := randomByte()
	s := &swarm{
		name:   runPrefix + "-swarm" + tag,
		tag:    tag,
		Subnet: fmt.Sprintf("10.251.%d.0/24", sub),
	}
	s.netns = s.name + "-net"
	for i, n := range []struct {
		field **swarmNode
		role  string
		short string
	}{{&s.Manager, "manager", "m"}, {&s.Worker1, "worker1", "w1"}, {&s.Worker2, "worker2", "w2"}} {
		e, err := newSecondEngine(s.name + "-" + n.short)
		if e != nil {
			*n.field = &swarmNode{
				secondEngine: e,
				Name:         n.role,
				Hostname:     s.name + "-" + n.role,
				Addr:         fmt.Sprintf("10.251.%d.%d", sub, 2+i),
				link:         "dbe2e" + tag + n.short,
			}
			e.hostname = (*n.field).Hostname
		}
		if err != nil {
			return s, err
		}
	}
	return s, s.link()
}

// Nodes are the manager and the two workers, in that order; nodes not made (a start
// that failed half-way) are left out.
func (s *swarm) Nodes() []*swarmNode {
	var out []*swarmNode
	for _, n := range []*swarmNode{s.Manager, s.Worker1, s.Worker2} {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// start starts the engines and forms the swarm; meanwhile it saves the images to a
// file (once a run: savedImages) and loads that into each node. It logs how long each
// part took.
func (s *swarm) start(t testing.TB, images []string) error {
	t.Helper()
	begin := time.Now()
	type saveResult struct {
		path string
		took time.Duration
		err  error
	}
	saved := make(chan saveResult, 1)
	go func() {
		start := time.Now()
		path, err := savedImages(images)
		saved <- saveResult{path, time.Since(start), err}
	}()
	if err := inParallel(s.Nodes(), (*swarmNode).start); err != nil {
		<-saved
		return err
	}
	up := time.Since(begin)

	var formed, loaded time.Duration
	var formErr, loadErr error
	var save saveResult
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		formErr = s.form()
		formed = time.Since(start)
	})
	wg.Go(func() {
		if save = <-saved; save.err != nil || save.path == "" {
			loadErr = save.err
			return
		}
		start := time.Now()
		loadErr = inParallel(s.Nodes(), func(n *swarmNode) error { return n.loadFile(save.path) })
		loaded = time.Since(start)
	})
	wg.Wait()
	if err := errors.Join(formErr, loadErr); err != nil {
		return err
	}
	t.Logf("swarm %s: ready in %s: its 3 engines up in %s; then, side by side, the swarm formed in %s and %s loaded into each node in %s (all 3 at once; saved in %s, beside the engines' start, or at once when saved before in the run)",
		s.name, time.Since(begin).Round(time.Millisecond), up.Round(time.Millisecond), formed.Round(time.Millisecond),
		strings.Join(images, " "), loaded.Round(time.Millisecond), save.took.Round(time.Millisecond))
	return nil
}

// inParallel runs fn on each node at once and returns their errors, joined.
func inParallel(nodes []*swarmNode, fn func(*swarmNode) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = fn(n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Env points docker (and the plugin) at the manager's socket, directly: nothing counts
// the bytes (Remote does).
func (s *swarm) Env() []string {
	return []string{"DOCKER_HOST=" + s.Manager.Host(), "DOCKER_CONTEXT="}
}

// Cmd prepares `docker args…` against the manager, with Env; set its dir (and add to
// its env) as for any cmdSpec.
func (s *swarm) Cmd(args ...string) cmdSpec {
	return cmdSpec{argv: append([]string{"docker"}, args...), env: s.Env()}
}

// Backup runs `docker backup args…` against the manager.
func (s *swarm) Backup(t testing.TB, args ...string) result {
	t.Helper()
	r := s.Cmd(append([]string{"backup"}, args...)...).run()
	t.Logf("%s (on the swarm's manager): exit code %d", r.cmd, r.code)
	return r
}

// Remote gives the test a docker context to the manager through a byteProxy of its
// own, as for a remote engine (remoteEngine: Context, Proxy, Env, Cmd, Backup): what
// passes through the client's connection to the manager is counted. Cleanup removes
// the context and the proxy.
func (s *swarm) Remote(t *testing.T) *remoteEngine {
	t.Helper()
	return attachRemoteEngine(t, s.Manager.secondEngine)
}

// randomByte is a random number from 0 to 255.
func randomByte() uint64 {
	n, _ := strconv.ParseUint(randomHex(1), 16, 8)
	return n
}
