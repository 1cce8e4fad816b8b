//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// secondEngine is a second Docker engine of this host: its own dockerd in its own
// network namespace, with its own data and exec roots, answering on a Unix socket. A
// test reaches it as a remote engine through a remoteEngine (a docker context and a
// byteProxy of its own).
//
// The engine shares this host's filesystem (only the network is its own), so a bind
// mount of a host path, such as Socket for a helper that talks to its engine, works as
// it would on the remote machine.
type secondEngine struct {
	// Socket is the engine's Unix socket on this host; Docker uses it directly.
	Socket string
	// DataRoot and ExecRoot are the engine's --data-root and --exec-root.
	DataRoot, ExecRoot string
	// Netns is the network namespace the engine runs in (`ip netns` name).
	Netns string

	// hostname, when set, gives dockerd UTS and mount namespaces of its own: that
	// hostname, and a view of the files where its own socket lies over the host's
	// /run/docker.sock (bindSocket), as a swarm node needs (swarm_node_test.go).
	hostname string

	root   string // the temporary folder holding everything above
	log    string // dockerd's output
	cmd    *exec.Cmd
	exited chan struct{} // closed once dockerd has exited
	stop   sync.Once
}

// remoteEngine is what a test sees of a second engine: the engine, and a docker context
// of the test's own whose endpoint is tcp://127.0.0.1:PORT, a byteProxy in front of the
// engine's socket. The plugin treats a tcp engine as remote, and the proxy's counters
// show what passed through the client, for this test only.
type remoteEngine struct {
	*secondEngine
	// Context is the docker context (in the tests' DOCKER_CONFIG) that reaches the
	// engine through Proxy.
	Context string
	// Proxy sits between Context and Socket and counts the bytes.
	Proxy *byteProxy
}

// remoteStartTimeout bounds the wait for the second engine to answer `docker info`.
const remoteStartTimeout = time.Minute

// startRemoteEngine starts a second engine for the test alone (a test that stops or
// kills it; the others share one, see sharedRemoteEngine), loads images into it and
// attaches a context; Cleanup stops it and removes all of it (netns, mounts, folders,
// context), also when the test fails.
func startRemoteEngine(t *testing.T, images ...string) *remoteEngine {
	t.Helper()
	se, err := startSecondEngine(images...)
	if se != nil {
		t.Cleanup(func() { se.Stop(t) })
	}
	if err != nil {
		t.Fatal(err)
	}
	return attachRemoteEngine(t, se)
}

// attachRemoteEngine gives the test its own proxy and context to the engine; Cleanup
// removes both (detach).
func attachRemoteEngine(t *testing.T, se *secondEngine) *remoteEngine {
	t.Helper()
	e := &remoteEngine{secondEngine: se, Context: se.Netns + "-" + randomHex(3)}
	e.Proxy = newByteProxy(t, se.Socket)
	t.Cleanup(func() { e.detach(t) })
	mustDocker(t, "context", "create", e.Context, "--docker", "host=tcp://"+e.Proxy.Addr())
	return e
}

// detach closes the test's proxy and removes its context; the engine goes on.
func (e *remoteEngine) detach(t testing.TB) {
	t.Helper()
	if e.Proxy.isClosed() {
		return
	}
	e.Proxy.Close()
	if r := runDocker(t, "context", "rm", "-f", e.Context); r.code != 0 {
		t.Errorf("removing the context %s: %v", e.Context, r)
	}
}

// Stop detaches the test and stops its engine (see secondEngine.Stop).
func (e *remoteEngine) Stop(t testing.TB) {
	t.Helper()
	e.detach(t)
	e.secondEngine.Stop(t)
}

// startSecondEngine starts a second engine and loads images into it. On an error the
// engine may be half made: the caller stops what it returns.
func startSecondEngine(images ...string) (*secondEngine, error) {
	e, err := newSecondEngine(runPrefix + "-engine" + randomHex(3))
	if err != nil {
		return e, err
	}
	if err := e.start(); err != nil {
		return e, err
	}
	if len(images) > 0 {
		if err := e.load(images...); err != nil {
			return e, err
		}
	}
	return e, nil
}

// newSecondEngine makes an engine's folder and its network namespace (with lo up), both
// named after name, which must start with runPrefix: remoteLeftovers finds them by it.
// dockerd is not started yet (start). On an error the caller stops what it returns,
// unless that is nil.
func newSecondEngine(name string) (*secondEngine, error) {
	root, err := os.MkdirTemp("", name+"-")
	if err != nil {
		return nil, fmt.Errorf("creating the folder of the engine %s: %w", name, err)
	}
	e := &secondEngine{
		Socket:   filepath.Join(root, "docker.sock"),
		DataRoot: filepath.Join(root, "data"),
		ExecRoot: filepath.Join(root, "exec"),
		Netns:    name,
		root:     root,
		log:      filepath.Join(root, "dockerd.log"),
		exited:   make(chan struct{}),
	}
	if out, err := exec.Command("ip", "netns", "add", e.Netns).CombinedOutput(); err != nil {
		return e, fmt.Errorf("creating the network namespace %s: %w: %s", e.Netns, err, bytes.TrimSpace(out))
	}
	if out, err := exec.Command("nsenter", "--net="+e.netnsPath(), "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return e, fmt.Errorf("bringing up lo in %s: %w: %s", e.Netns, err, bytes.TrimSpace(out))
	}
	return e, nil
}

// start starts dockerd and waits until it answers.
func (e *secondEngine) start() error {
	if err := e.startDockerd(); err != nil {
		return fmt.Errorf("starting the engine %s: %w", e.Netns, err)
	}
	return e.waitUp()
}

// waitUp polls the engine until it answers `docker info`, for remoteStartTimeout.
func (e *secondEngine) waitUp() error {
	err := poll(remoteStartTimeout, func() error {
		select {
		case <-e.exited:
			return stopPoll{fmt.Errorf("the dockerd exited (%v); its log:\n%s", e.cmd.ProcessState, e.logTail(40))}
		default:
		}
		r := cmdSpec{argv: []string{"docker", "-H", e.Host(), "info", "--format", "{{.ServerVersion}}"}}.run()
		if r.code != 0 {
			return errors.New(strings.TrimSpace(r.stderr))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the engine %s: %w", e.Netns, err)
	}
	return nil
}

// startDockerd writes the engine's own daemon.json (the host's /etc/docker/daemon.json
// sets a data-root of its own) and starts dockerd in the network namespace (and, for a
// swarm node, its own hostname and mount namespaces: namespaces). nsenter rather than
// `ip netns exec`, which remounts /sys and hides the cgroup mounts.
func (e *secondEngine) startDockerd() error {
	for _, dir := range []string{e.DataRoot, e.ExecRoot} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
	}
	// The main engine's storage driver is the one known to work on this machine.
	driver, err := exec.Command("docker", "info", "--format", "{{.Driver}}").Output()
	if err != nil {
		return fmt.Errorf("reading the main engine's storage driver: %v", err)
	}
	cfg, err := json.Marshal(map[string]any{
		"storage-driver": strings.TrimSpace(string(driver)),
		// Stop quickly: a test's containers get 5 s, not 15, when the engine stops.
		"shutdown-timeout": 5,
		// Its containers go in a cgroup of their own, so a killed engine's containers
		// can be found (and their cgroups removed) without touching the main engine's.
		"exec-opts":     []string{"native.cgroupdriver=cgroupfs"},
		"cgroup-parent": "/" + e.cgroup(),
	})
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(e.root, "daemon.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return err
	}
	logFile, err := os.Create(e.log)
	if err != nil {
		return err
	}
	defer logFile.Close()
	argv := append(e.namespaces(), "dockerd",
		"--config-file", cfgFile,
		"--data-root", e.DataRoot,
		"--exec-root", e.ExecRoot,
		"--pidfile", filepath.Join(e.root, "docker.pid"),
		"-H", "unix://"+e.Socket,
		// No rules in the host's iptables; the namespace has no way out anyway.
		"--iptables=false",
		// Should it share the machine's containerd, its objects stay apart from the
		// main engine's.
		"--containerd-namespace", e.Netns,
		"--containerd-plugins-namespace", e.Netns+"-plugins",
	)
	e.cmd = exec.Command(argv[0], argv[1:]...)
	if e.hostname != "" {
		// A task's image is used as loaded: there is no registry to ask for its digest.
		e.cmd.Env = append(os.Environ(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1")
	}
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	// nsenter execs dockerd, so the process is dockerd; should the test binary die
	// without its Cleanup, dockerd is told to stop.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		return err
	}
	go func() {
		e.cmd.Wait()
		close(e.exited)
	}()
	return nil
}

// namespaces is the start of dockerd's command line that puts it in its namespaces:
// the network namespace; for a swarm node (hostname set) also new UTS and mount
// namespaces, the latter a slave of the host's, so the host's unmounts reach it and
// its own mounts (its socket over /run/docker.sock, its layers) stay in it. unshare and
// sh exec, so the process is still dockerd.
func (e *secondEngine) namespaces() []string {
	argv := []string{"nsenter", "--net=" + e.netnsPath()}
	if e.hostname == "" {
		return argv
	}
	return append(argv, "unshare", "--mount", "--uts", "--propagation", "slave",
		"/bin/sh", "-c", `hostname "$0" && exec "$@"`, e.hostname)
}

func (e *secondEngine) netnsPath() string { return "/var/run/netns/" + e.Netns }

// cgroup is the name of the cgroup (at the top of each hierarchy) that holds the
// engine's containers.
func (e *secondEngine) cgroup() string { return e.Netns }

// Host is the engine's address without the proxy, for -H.
func (e *secondEngine) Host() string { return "unix://" + e.Socket }

// Docker runs the plain docker CLI against the engine's socket: the proxy does not see
// (or count) it. It does not fail on a non-zero exit: the caller checks.
func (e *secondEngine) Docker(t testing.TB, args ...string) result {
	t.Helper()
	return cmdSpec{argv: append([]string{"docker", "-H", e.Host()}, args...)}.run()
}

// MustDocker is Docker that fails the test unless the command succeeds; it returns stdout.
func (e *secondEngine) MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	r := e.Docker(t, args...)
	if r.code != 0 {
		t.Fatalf("on the second engine: %v", r)
	}
	return r.stdout
}

// Env is the environment that points docker (and compose, the plugin) at the context,
// through the proxy: DOCKER_HOST, which would win over DOCKER_CONTEXT, is emptied.
func (e *remoteEngine) Env() []string {
	return []string{"DOCKER_HOST=", "DOCKER_CONTEXT=" + e.Context}
}

// Cmd prepares `docker --context CONTEXT args…` through the proxy, with Env; set its
// dir (and add to its env) as for any cmdSpec.
func (e *remoteEngine) Cmd(args ...string) cmdSpec {
	return cmdSpec{argv: append([]string{"docker", "--context", e.Context}, args...), env: e.Env()}
}

// Backup runs `docker --context CONTEXT backup args…` through the proxy.
func (e *remoteEngine) Backup(t testing.TB, args ...string) result {
	t.Helper()
	r := e.Cmd(append([]string{"backup"}, args...)...).run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	return r
}

// load copies images from the main engine into this one (`docker save | docker load`:
// nothing can be pulled here), past any proxy, so no counter sees them.
func (e *secondEngine) load(images ...string) error {
	save := exec.Command("docker", append([]string{"save"}, images...)...)
	load := exec.Command("docker", "-H", e.Host(), "load", "-q")
	save.Env, load.Env = env.base, env.base
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	var saveErr, loadOut bytes.Buffer
	save.Stdout, save.Stderr = pw, &saveErr
	load.Stdin, load.Stdout, load.Stderr = pr, &loadOut, &loadOut
	if err := load.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("starting docker load: %w", err)
	}
	pr.Close()
	serr := save.Run()
	pw.Close()
	lerr := load.Wait()
	if serr != nil || lerr != nil {
		return fmt.Errorf("loading %s into the second engine: save: %v %s; load: %v %s",
			strings.Join(images, " "), serr, bytes.TrimSpace(saveErr.Bytes()), lerr, bytes.TrimSpace(loadOut.Bytes()))
	}
	return nil
}

// logTail returns the last n lines of dockerd's output, less gRPC's chatter about
// its connections to containerd.
func (e *secondEngine) logTail(n int) string {
	b, err := os.ReadFile(e.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	var l []string
	for _, line := range lines(string(b)) {
		if !strings.Contains(line, "module=grpc") {
			l = append(l, line)
		}
	}
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
