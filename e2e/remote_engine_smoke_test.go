//go:build e2e

package e2e

import (
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestRemoteEngineHarness checks the second-engine harness itself: the context reaches
// the shared engine through the test's own proxy (the plugin, a container's attached
// output, stdin closed half-way), what is made there is not on the main engine, and
// detaching removes the context and the proxy. That stopping the engine leaves nothing
// behind, TestMain checks of the shared engine (stopSharedEngine) and
// TestRemoteEngineKilled of a killed one.
func TestRemoteEngineHarness(t *testing.T) {
	t.Parallel()
	e := sharedRemoteEngine(t)

	// The context is the second engine, not the main one.
	if r := e.Cmd("info", "--format", "{{.DockerRootDir}}").run(); r.code != 0 || strings.TrimSpace(r.stdout) != e.DataRoot {
		t.Fatalf("want the context's engine to have data root %s: %v", e.DataRoot, r)
	}

	t.Run("plugin", func(t *testing.T) {
		e.Proxy.Reset()
		r := e.Backup(t, "version")
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		want := strings.TrimSpace(e.MustDocker(t, "version", "--format", "{{.Server.Version}}"))
		for _, s := range []string{pluginVersion, want} {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("version does not print %q:\n%s", s, r.stdout)
			}
		}
		checkProxied(t, e, "docker backup version")
	})

	t.Run("attach", func(t *testing.T) {
		e.Proxy.Reset()
		r := e.Cmd("run", "--rm", env.resticImage, "version").run()
		if r.code != 0 || !strings.HasPrefix(r.stdout, "restic ") {
			t.Fatalf("want restic's version: %v", r)
		}
		checkProxied(t, e, "docker run")
	})

	t.Run("stdin", func(t *testing.T) {
		// cat ends only once the proxy passes on the end of stdin as a half-close, and
		// its output still has to come back on the same connection.
		const in = "through the proxy and back\n"
		spec := e.Cmd("run", "--rm", "-i", "--entrypoint", "/bin/busybox", env.resticImage, "cat")
		spec.stdin = in
		if r := spec.run(); r.code != 0 || r.stdout != in {
			t.Fatalf("want %q back from cat: %v", in, r)
		}
		if got := e.Proxy.BytesIn(); got < int64(len(in)) {
			t.Errorf("the proxy counted %d bytes to the engine, less than stdin's %d", got, len(in))
		}
	})

	t.Run("apart", func(t *testing.T) {
		name := runPrefix + "-remote-probe"
		if r := e.Cmd("create", "--name", name, env.resticImage, "version").run(); r.code != 0 {
			t.Fatalf("%v", r)
		}
		t.Cleanup(func() { e.Docker(t, "rm", "-f", name) })
		filter := "name=^" + name + "$"
		if got := lines(e.MustDocker(t, "ps", "-aq", "--filter", filter)); len(got) != 1 {
			t.Errorf("want the container on the second engine, got %q", got)
		}
		if got := lines(mustDocker(t, "ps", "-aq", "--filter", filter)); len(got) != 0 {
			t.Errorf("the main engine has the second engine's container: %q", got)
		}
	})

	e.detach(t)
	checkDetached(t, e)
}

// checkProxied fails unless the proxy counted bytes both ways for what just ran.
func checkProxied(t *testing.T, e *remoteEngine, what string) {
	t.Helper()
	in, out := e.Proxy.BytesIn(), e.Proxy.BytesOut()
	t.Logf("%s: %d bytes to the engine, %d back", what, in, out)
	if in == 0 || out == 0 {
		t.Errorf("%s did not go through the proxy: %d bytes in, %d out", what, in, out)
	}
}

// checkEngineGone checks that a stopped engine left nothing: no process, mount,
// network namespace or folder.
func checkEngineGone(t reporter, e *secondEngine) {
	t.Helper()
	select {
	case <-e.exited:
	default:
		t.Errorf("dockerd still runs")
	}
	if pids := e.stragglers(); len(pids) > 0 {
		t.Errorf("processes of the engine still run: %v", pids)
	}
	if dirs := e.cgroupDirs(); len(dirs) > 0 {
		t.Errorf("cgroups still there: %q", dirs)
	}
	if m := e.mounts(); len(m) > 0 {
		t.Errorf("still mounted: %q", m)
	}
	if _, err := os.Stat(e.netnsPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the network namespace %s is still there (%v)", e.Netns, err)
	}
	for _, dir := range []string{e.root, e.DataRoot, e.ExecRoot} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", dir, err)
		}
	}
}

// checkDetached checks that a test's view of an engine is gone: no context, no
// listening proxy.
func checkDetached(t *testing.T, e *remoteEngine) {
	t.Helper()
	if slices.Contains(lines(mustDocker(t, "context", "ls", "--format", "{{.Name}}")), e.Context) {
		t.Errorf("the context %s is still there", e.Context)
	}
	if c, err := net.Dial("tcp", e.Proxy.Addr()); err == nil {
		c.Close()
		t.Errorf("the proxy still accepts connections on %s", e.Proxy.Addr())
	}
}

// TestRemoteEngineKilled kills the second engine's dockerd while a container runs, as a
// crash would, and checks that Stop still removes everything: the containerd and shim
// it left, the mounts, the namespace and the folders.
//
// It starts an engine of its own, the one test that does: the shared one must live on.
func TestRemoteEngineKilled(t *testing.T) {
	t.Parallel()
	e := startRemoteEngine(t, env.resticImage)
	e.MustDocker(t, "run", "-d", "--name", runPrefix+"-remote-sleeper", "--entrypoint", "/bin/busybox", env.resticImage, "sleep", "600")
	if err := e.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-e.exited
	if !slices.ContainsFunc(e.stragglers(), e.inCgroup) {
		t.Fatal("a killed dockerd left no container process: the case this test is for did not happen")
	}
	if len(e.mounts()) == 0 {
		t.Fatal("a killed dockerd left no mounts: the case this test is for did not happen")
	}
	e.Stop(t)
	checkEngineGone(t, e.secondEngine)
	checkDetached(t, e)
}
