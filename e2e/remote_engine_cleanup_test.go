//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reporter is where Stop and the checks of a stopped engine report: a test, or
// TestMain's teardown (teardownReporter).
type reporter interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Failed() bool
}

// Stop stops the engine and removes everything startSecondEngine made: dockerd
// (SIGTERM, then SIGKILL) and what it started, its cgroups, the mounts left under its
// folder, the network namespace, the folder. It runs once.
func (e *secondEngine) Stop(t reporter) {
	t.Helper()
	e.stop.Do(func() {
		if t.Failed() {
			t.Logf("the log of the engine %s (tail):\n%s", e.Netns, e.logTail(40))
		}
		if e.cmd != nil && e.cmd.Process != nil {
			e.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-e.exited:
			case <-time.After(30 * time.Second):
				t.Errorf("the engine %s did not stop within 30 s of SIGTERM; killing it", e.Netns)
				e.cmd.Process.Kill()
				<-e.exited
			}
		}
		e.killStragglers(t)
		e.removeCgroups(t)
		e.unmountAll(t)
		if _, err := os.Stat(e.netnsPath()); err == nil {
			if out, err := exec.Command("ip", "netns", "delete", e.Netns).CombinedOutput(); err != nil {
				t.Errorf("deleting the network namespace %s: %v: %s", e.Netns, err, bytes.TrimSpace(out))
			}
		}
		if err := os.RemoveAll(e.root); err != nil {
			t.Errorf("removing the folder of the engine %s: %v", e.Netns, err)
		}
	})
}

// killStragglers kills what a killed dockerd left running: its containerd, the shims
// and the processes of its containers, found by our folder or containerd namespace in
// their command line or by our cgroup (all three names carry runPrefix and a random
// part, so what they find is ours).
func (e *secondEngine) killStragglers(t reporter) {
	t.Helper()
	pids := e.stragglers()
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cmdline = bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})
		if len(cmdline) > 160 {
			cmdline = append(cmdline[:160], "…"...)
		}
		t.Logf("killing process %d, left by the engine %s: %s", pid, e.Netns, cmdline)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(pids) > 0 {
		err := poll(10*time.Second, func() error {
			if left := e.stragglers(); len(left) > 0 {
				return fmt.Errorf("still running: %v", left)
			}
			return nil
		})
		if err != nil {
			t.Errorf("waiting for the processes of the engine %s to end: %v", e.Netns, err)
		}
	}
}

// stragglers returns the processes whose command line names our folder or namespace,
// or that are in our cgroup.
func (e *secondEngine) stragglers() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, e.root) }) ||
			slices.Contains(args, e.Netns) || e.inCgroup(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// inCgroup tells whether a process is in the engine's cgroup, in any hierarchy.
func (e *secondEngine) inCgroup(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return false
	}
	for _, l := range lines(string(b)) {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (parts[2] == "/"+e.cgroup() || strings.HasPrefix(parts[2], "/"+e.cgroup()+"/")) {
			return true
		}
	}
	return false
}

// cgroupDirs returns the engine's cgroup folder in each hierarchy that has one: directly
// under /sys/fs/cgroup (cgroup v2) or under a controller's folder (v1).
func (e *secondEngine) cgroupDirs() []string {
	candidates := []string{filepath.Join("/sys/fs/cgroup", e.cgroup())}
	hierarchies, _ := os.ReadDir("/sys/fs/cgroup")
	for _, h := range hierarchies {
		if h.IsDir() {
			candidates = append(candidates, filepath.Join("/sys/fs/cgroup", h.Name(), e.cgroup()))
		}
	}
	var dirs []string
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			dirs = append(dirs, c)
		}
	}
	return dirs
}

// removeCgroups removes the engine's cgroups, which dockerd leaves (the parent always,
// a killed engine's containers' too). A cgroup is removed with rmdir, children first,
// once its processes are gone.
func (e *secondEngine) removeCgroups(t reporter) {
	t.Helper()
	for _, top := range e.cgroupDirs() {
		var dirs []string
		filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for _, d := range slices.Backward(dirs) {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("removing the cgroup %s: %v", d, err)
			}
		}
	}
}

// unmountAll detaches whatever is still mounted under the engine's folder (a dockerd
// that was killed leaves its data root's bind mount and its layers), deepest first.
func (e *secondEngine) unmountAll(t reporter) {
	t.Helper()
	mounts := e.mounts()
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", m, err)
		}
	}
}

// mounts returns the mount points at or under the engine's folder.
func (e *secondEngine) mounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Field 5 is the mount point, with spaces and the like octal-escaped; our
		// folder's name has none.
		if fields := strings.Fields(sc.Text()); len(fields) > 4 {
			if mp := fields[4]; mp == e.root || strings.HasPrefix(mp, e.root+"/") {
				out = append(out, mp)
			}
		}
	}
	return out
}

// remoteLeftovers removes, and describes, what second engines and swarms of this run
// left when a Stop failed or never ran: network namespaces, folders (after detaching
// their mounts) and empty cgroups, all named runPrefix-engine… or runPrefix-swarm….
func remoteLeftovers() string {
	var b strings.Builder
	for _, prefix := range []string{runPrefix + "-engine", runPrefix + "-swarm"} {
		b.WriteString(engineLeftovers(prefix))
	}
	return b.String()
}

// engineLeftovers is remoteLeftovers for the names that start with prefix.
func engineLeftovers(prefix string) string {
	var b strings.Builder
	netns, _ := filepath.Glob("/var/run/netns/" + prefix + "*")
	for _, ns := range netns {
		fmt.Fprintf(&b, "  network namespace %s\n", filepath.Base(ns))
		exec.Command("ip", "netns", "delete", filepath.Base(ns)).Run()
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range dirs {
		fmt.Fprintf(&b, "  folder %s\n", dir)
		e := &secondEngine{root: dir}
		for _, m := range slices.Backward(e.mounts()) {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
		os.RemoveAll(dir)
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/" + prefix + "*")
	more, _ := filepath.Glob("/sys/fs/cgroup/*/" + prefix + "*")
	for _, cg := range append(cgroups, more...) {
		fmt.Fprintf(&b, "  cgroup %s\n", cg)
		os.Remove(cg)
	}
	return b.String()
}
