//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dockerEvents follows `docker events --format format` with the filters ("key=value")
// from now until the test ends or stop is called, and returns its output line by line.
func dockerEvents(t *testing.T, format string, filters ...string) (events *bufio.Scanner, stop func()) {
	t.Helper()
	// --since now: the events the engine sends while the CLI connects count too.
	argv := []string{"events", "--format", format, "--since", time.Now().Format(time.RFC3339Nano)}
	for _, f := range filters {
		argv = append(argv, "--filter", f)
	}
	cmd := exec.Command("docker", argv...)
	cmd.Env = env.base
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(stop)
	return bufio.NewScanner(out), stop
}

// containerDies reports when the engine says that container id died, from now until the
// test ends: the moment a run stops a service.
func containerDies(t *testing.T, id string) <-chan struct{} {
	t.Helper()
	sc, _ := dockerEvents(t, "{{.Action}}", "type=container", "container="+id, "event=die")
	died := make(chan struct{})
	go func() {
		if sc.Scan() {
			close(died)
		}
	}()
	return died
}

// helperEvents sends the ID of each of the project's helpers of kind when the engine
// reports event (start, die) for it, from now until the test ends.
func helperEvents(t *testing.T, p *project, event, kind string) <-chan string {
	t.Helper()
	sc, _ := dockerEvents(t, "{{json .}}", "type=container", "event="+event,
		"label="+labelProject+"="+p.name, "label="+labelKind+"="+kind)
	ids := make(chan string, 16)
	go func() {
		for sc.Scan() {
			var ev struct{ ID string }
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.ID != "" {
				select {
				case ids <- ev.ID:
				default:
				}
			}
		}
	}()
	return ids
}

// awaitMoment waits, while the command runs, for moment and returns what it sent: the
// command ending first, or no moment within helperWait, fails the test. what names the
// moment for the failure message ("its swap helper started").
func awaitMoment[T any](t *testing.T, s *started, moment <-chan T, what string) T {
	t.Helper()
	var v T
	select {
	case v = <-moment:
	case <-s.done:
		t.Fatalf("%s ended before %s: %v", s.argv, what, s.res)
	case <-time.After(helperWait):
		t.Fatalf("%s: waited %s for the moment %s", s.argv, helperWait, what)
	}
	return v
}

// killAt kills the command (kill -9) at moment (see awaitMoment) and waits for it to end.
func killAt[T any](t *testing.T, s *started, moment <-chan T, what string) {
	t.Helper()
	awaitMoment(t, s, moment, what)
	s.signal(t, syscall.SIGKILL)
	s.wait(t, helperWait)
}

// waitSwapHelpersGone waits for the project's swap helpers to end: one the plugin
// started goes on without it, and recovery waits for it too.
func (p *project) waitSwapHelpersGone(t *testing.T) {
	t.Helper()
	eventually(t, helperWait, "the swap helper to end", func() error {
		if ids := lines(mustDocker(t, "ps", "-q", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelKind+"=restore-swap")); len(ids) > 0 {
			return errors.New("still running")
		}
		return nil
	})
}

// killMidDump runs up of db with compose.partial.yaml (a dump that sends its first
// bytes, touches /tmp/partial-dump-sent and hangs), kills the plugin (kill -9) once it
// did, and waits for the orphaned dump helper, and the dump in db's container, to end.
func (p *project) killMidDump(t *testing.T) {
	t.Helper()
	killed := p.start(t, nil, pluginBin(), "-f", "compose.yaml", "-f", "compose.partial.yaml", "up", "db")
	helper := p.waitHelper(t, "dump")
	eventually(t, helperWait, "the dump to send its first bytes", func() error {
		if r := p.tryExec(t, "db", "", "test", "-e", "/tmp/partial-dump-sent"); r.code != 0 {
			return errors.New("not yet")
		}
		return nil
	})
	killed.signal(t, syscall.SIGKILL)
	killed.wait(t, helperWait)
	eventually(t, helperWait, "the orphaned dump helper to end", func() error {
		if s := state(t, helper); s == "running" {
			return errors.New("still running")
		}
		return nil
	})
	eventually(t, helperWait, "the orphaned dump to be ended in its container", func() error {
		if ps := p.processes(t, "db"); strings.Contains(ps, "sleep 300") {
			return fmt.Errorf("still running:\n%s", ps)
		}
		return nil
	})
}
