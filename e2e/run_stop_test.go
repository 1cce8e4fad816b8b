//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopWait bounds the wait for the slow service's stop (about 6 s, grace period 30 s).
const stopWait = 45 * time.Second

// startStopping starts `up slow` with the plugin binary and returns once the run has
// recorded the slow service's container and the engine has sent it SIGTERM, while the
// container still runs its 6-second trap. events lists slow's events since the start.
func startStopping(t *testing.T, p *project, slow string) (s *started, events func() []containerEvent) {
	t.Helper()
	if st := state(t, slow); st != "running" {
		t.Fatalf("slow is %q before the test, want running", st)
	}
	since := time.Now()
	rec := recordContainerEvents(t, "container="+slow)
	events = func() []containerEvent { return rec.of(slow, since, time.Time{}) }
	s = p.start(t, nil, pluginBin(), "up", "slow")
	eventually(t, helperWait, "the run to record and stop slow", func() error {
		if s.exited() {
			t.Fatalf("up ended before it stopped slow: %v", s.res)
		}
		if !recorded(p.stopRecords(t), slow) {
			return errors.New("no stop record yet")
		}
		for _, e := range events() {
			if e.action == "kill" && e.signal == "15" {
				return nil
			}
		}
		return errors.New("no SIGTERM yet")
	})
	if st := state(t, slow); st != "running" {
		t.Fatalf("slow is %q right after its SIGTERM, want still running its trap (the test needs a slow stop)", st)
	}
	return s, events
}

// checkStoppedOnce checks that slow died once since startStopping, by its own hand after
// SIGTERM (exit code 0: the stop was not cut short by a SIGKILL, 137), and was started
// after it. The caller saw slow running: its start event is on its way.
func checkStoppedOnce(t *testing.T, events func() []containerEvent) {
	t.Helper()
	eventually(t, 10*time.Second, "the engine's event of slow's start", func() error {
		evs := events()
		if die := slices.IndexFunc(evs, func(e containerEvent) bool { return e.action == "die" }); die < 0 ||
			!slices.ContainsFunc(evs[die:], func(e containerEvent) bool { return e.action == "start" }) {
			return fmt.Errorf("events of slow: %v", actions(evs))
		}
		return nil
	})
	evs := events()
	var died, startedAfter int
	for _, e := range evs {
		switch e.action {
		case "die":
			died++
			if e.exitCode != "0" {
				t.Errorf("slow died with exit code %s, want 0: its stop was cut short", e.exitCode)
			}
		case "start":
			if died > 0 {
				startedAfter++
			}
		}
	}
	if died != 1 || startedAfter == 0 {
		t.Errorf("events of slow: %+v, want one die and a start after it", evs)
	}
}

// TestUpInterruptedDuringStop interrupts up while a stop: true service takes its time
// to stop: the stop is finished, never cut short, and the service runs again after
// Ctrl-C, or after the next command when the plugin was killed.
func TestUpInterruptedDuringStop(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run-stop")
	p.exec(t, "slow", "sh", "-c", "echo kept > /srv/data/file")
	slow := p.container(t, "slow")
	if to := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.Config.StopTimeout}}", slow)); to != "30" {
		t.Fatalf("slow's stop timeout is %q, want compose's stop_grace_period 30", to)
	}

	t.Run("Ctrl-C starts it again", func(t *testing.T) {
		s, events := startStopping(t, p, slow)
		s.signal(t, os.Interrupt)
		if r := s.wait(t, stopWait); r.code != 130 {
			t.Errorf("interrupted up: exit code %d, want 130: %v", r.code, r)
		}
		if st := state(t, slow); st != "running" {
			t.Errorf("slow is %q after the interrupted up, want running", st)
		}
		checkStoppedOnce(t, events)
		p.checkRunEnded(t)
	})

	t.Run("after a kill the next up starts it again", func(t *testing.T) {
		s, events := startStopping(t, p, slow)
		s.signal(t, syscall.SIGKILL)
		s.wait(t, helperWait)
		eventually(t, stopWait, "the engine to finish stopping slow", func() error {
			if st := state(t, slow); st != "exited" {
				return fmt.Errorf("slow is %q", st)
			}
			return nil
		})
		if !recorded(p.stopRecords(t), slow) {
			t.Fatalf("the killed run left no stop record of slow: %v", p.stopRecords(t))
		}
		r := p.backup(t, "up", "cache")
		if r.code != 0 {
			t.Fatalf("next up: %v", r)
		}
		if !strings.Contains(r.stdout+r.stderr, "started container "+slow[:12]+" again") {
			t.Errorf("next up does not say it started slow again:\n%s%s", r.stdout, r.stderr)
		}
		if st := state(t, slow); st != "running" {
			t.Errorf("slow is %q after the next up, want running", st)
		}
		checkStoppedOnce(t, events)
		if got := p.exec(t, "slow", "cat", "/srv/data/file"); got != "kept\n" {
			t.Errorf("slow's file = %q", got)
		}
		p.checkRunEnded(t)
	})

	t.Run("after a kill the next up starts it again also when the stop is still under way", func(t *testing.T) {
		// slow holds its stop until the test releases it (15 s at most), so the next up
		// surely recovers the killed run while the engine is still stopping slow: it must
		// let that stop end before it starts slow, or slow would stop for good.
		p.exec(t, "slow", "touch", "/tmp/hold-stop")
		s, events := startStopping(t, p, slow)
		s.signal(t, syscall.SIGKILL)
		s.wait(t, helperWait)
		next := p.start(t, nil, "docker", "backup", "up", "cache")
		eventually(t, stopWait, "the next up to end or to act on the killed run's stop record", func() error {
			if next.exited() || !recorded(p.stopRecords(t), slow) {
				return nil
			}
			return errors.New("the next up has not acted on the stop record yet")
		})
		p.exec(t, "slow", "rm", "-f", "/tmp/hold-stop")
		r := next.wait(t, stopWait)
		if r.code != 0 {
			t.Fatalf("next up: %v", r)
		}
		eventually(t, stopWait, "the engine to finish stopping slow", func() error {
			for _, e := range events() {
				if e.action == "die" {
					return nil
				}
			}
			return errors.New("slow has not died yet")
		})
		eventually(t, 10*time.Second, "slow to run again", func() error {
			if st := state(t, slow); st != "running" {
				return fmt.Errorf("slow is %q once its stop ended; the next up said:\n%s%s", st, r.stdout, r.stderr)
			}
			return nil
		})
		checkStoppedOnce(t, events)
		p.checkRunEnded(t)
	})
}

// TestUpRecordedContainerRecreated kills the plugin while a stop: true service is
// stopped (recorded) for its copy, then compose recreates that service: the container
// the record names no longer exists. The next up warns, carries on and succeeds.
func TestUpRecordedContainerRecreated(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	// The last up backs up db too: its sqlite preset refuses a missing database file.
	p.seedNotes(t, 10, "note")
	// Enough data that the copy still runs when the test kills the plugin.
	p.exec(t, "files", "sh", "-c", "head -c 200000000 /dev/urandom > /srv/data/big && echo small > /srv/data/small")
	old := p.container(t, "files")

	killed := p.start(t, nil, pluginBin(), "up", "files")
	p.waitHelper(t, "backup")
	if st := state(t, old); st != "exited" {
		t.Fatalf("files is %q while its copy runs, want exited", st)
	}
	if !recorded(p.stopRecords(t), old) {
		t.Fatalf("no stop record of files while it is stopped: %v", p.stopRecords(t))
	}
	killed.signal(t, syscall.SIGKILL)
	killed.wait(t, helperWait)
	if st := state(t, old); st != "exited" {
		t.Fatalf("files is %q after the plugin was killed, want exited (nothing could start it)", st)
	}

	if r := p.compose(t, "up", "-d", "--force-recreate", "files"); r.code != 0 {
		t.Fatalf("recreating files: %v", r)
	}
	recreated := p.container(t, "files")
	if recreated == old || state(t, old) != "" {
		t.Fatalf("compose did not recreate files (old %s is %q, now %s)", old, state(t, old), recreated)
	}

	r := p.backup(t, "up", "--json")
	if r.code != 0 {
		t.Fatalf("next up: %v", r)
	}
	if !strings.Contains(r.stdout+r.stderr, "no longer exists") || !strings.Contains(r.stdout+r.stderr, old) {
		t.Errorf("next up does not warn that the recorded container %s no longer exists:\n%s%s", old, r.stdout, r.stderr)
	}
	if st := state(t, recreated); st != "running" {
		t.Errorf("files is %q after the next up, want running", st)
	}
	e := doneEvents(t, r.stdout)["files"]
	if e.Status != "ok" || e.Summary == nil {
		t.Fatalf("next up: files ended %+v, want ok", e)
	}
	repo, key := p.localRepo()
	small := resticCmd(repo, key, nil, "--no-cache", "dump", e.Summary.SnapshotID, "/backup/files/data/small").run()
	if small.code != 0 || small.stdout != "small\n" {
		t.Errorf("files' snapshot %.8s: small = %q: %v", e.Summary.SnapshotID, small.stdout, small.cmd)
	}
	p.checkRunEnded(t)
}

// TestUpStopWaitsForACleanShutdown: a service that needs 15 s to shut down cleanly,
// with stop_grace_period: 30s, is given that time, so the copy holds its clean state
// (the engine's default 10 s would have killed it with its state still dirty).
func TestUpStopWaitsForACleanShutdown(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run-stop")
	if got := p.exec(t, "graceful", "cat", "/srv/state/shutdown"); got != "dirty\n" {
		t.Fatalf("graceful's state %q before the backup, want dirty", got)
	}
	p.mustBackup(t, "up", "graceful")
	if got := p.snapshotFile(t, "graceful", "/backup/graceful/state/shutdown"); got.code != 0 || got.stdout != "clean\n" {
		t.Errorf("graceful's state in the snapshot: %v, want clean (its shutdown was cut short)", got)
	}
	if st := p.serviceState(t, "graceful"); st != "running" {
		t.Errorf("graceful is %s after the backup, want running", st)
	}
	p.checkRunEnded(t)
}
