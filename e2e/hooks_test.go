//go:build e2e

package e2e

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// processes lists the command lines of the processes in a service's container, one per
// line, read from /proc (the image need not have ps).
func (p *project) processes(t *testing.T, service string) string {
	t.Helper()
	return p.exec(t, service, "sh", "-c", `for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f" 2>/dev/null; echo; done`)
}

// waitProcess waits until a process whose command line holds cmd runs in a service's
// container, while the started command s runs.
func (p *project) waitProcess(t *testing.T, s *started, service, cmd string) {
	t.Helper()
	eventually(t, helperWait, cmd+" in "+service, func() error {
		if s.exited() {
			t.Fatalf("%s ended before %s ran in %s: %v", s.argv, cmd, service, s.res)
		}
		if !strings.Contains(p.processes(t, service), cmd) {
			return errors.New("not yet")
		}
		return nil
	})
}

// snapshotFile prints a file of a service's latest snapshot with plain restic.
func (p *project) snapshotFile(t *testing.T, service, file string) result {
	t.Helper()
	repo, key := p.localRepo()
	return hostRestic(repo, key, "dump", "--tag", "service="+service, "latest", file).run()
}

// TestUpHooks checks the hooks around a backup in the data itself: the snapshot holds
// what pre wrote (and not what post did), the live volume ends with post and the
// outcome hook; after a failed dump, post and on_failure still ran. Excludes are the
// service's paths.
func TestUpHooks(t *testing.T) {
	t.Parallel()
	p := newProject(t, "hooks")
	p.exec(t, "app", "sh", "-c", "mkdir -p /data/cache && echo scratch > /data/cache/tmp && echo kept > /data/file")

	r := p.backup(t, "up", "--json", "app", "worker")
	if r.code != 1 {
		t.Fatalf("up app worker: %v, want exit code 1 (worker's dump fails)", r)
	}
	if !strings.Contains(r.stdout, `"hook":"pre 1"`) || !strings.Contains(r.stdout, `"hook":"on_failure 1"`) {
		t.Errorf("--json does not report every hook:\n%s", r.stdout)
	}

	// app: pre ran before the copy, post after it, then on_success.
	if got := p.snapshotFile(t, "app", "/backup/app/appdata/hooks.log"); got.code != 0 || got.stdout != "pre\n" {
		t.Errorf("hooks.log in app's snapshot: %v, want only pre", got)
	}
	if got := p.snapshotFile(t, "app", "/backup/app/appdata/state"); got.code != 0 || got.stdout != "paused\n" {
		t.Errorf("state in app's snapshot: %v, want paused (written by pre)", got)
	}
	if got := p.snapshotFile(t, "app", "/backup/app/appdata/cache/tmp"); got.code == 0 {
		t.Errorf("exclude /data/cache did not exclude /data/cache/tmp: %v", got)
	}
	if got := p.exec(t, "app", "cat", "/data/hooks.log"); got != "pre\npost\non_success\n" {
		t.Errorf("app's hooks.log %q, want pre, post, on_success", got)
	}
	if r := p.tryExec(t, "app", "", "test", "-e", "/data/state"); r.code == 0 {
		t.Error("app's state file is still there: post did not run")
	}

	// worker: the dump failed, no snapshot; post and on_failure ran all the same.
	if got := p.exec(t, "worker", "cat", "/data/hooks.log"); got != "pre\npost\non_failure\n" {
		t.Errorf("worker's hooks.log %q, want pre, post, on_failure", got)
	}
	if !strings.Contains(r.stdout, "the database went away") {
		t.Errorf("the dump's stderr is not reported:\n%s", r.stdout)
	}
	repo, key := p.localRepo()
	if snaps := snapshots(t, repo, key, "--tag", "service=worker"); len(snaps) != 0 {
		t.Errorf("worker's failed dump left snapshots %v", snapshotIDs(snaps))
	}
	p.checkRunEnded(t)
}

// TestUpEndsDumpsInTheirContainer checks that a dump that does not end is ended inside
// the service's container, with its children: by the service's timeout, and by Ctrl-C;
// and that a second Ctrl-C exits at once, whatever the cleanup still does.
func TestUpEndsDumpsInTheirContainer(t *testing.T) {
	t.Parallel()
	p := newProject(t, "hooks")

	start := time.Now()
	r := p.backup(t, "up", "slow")
	if r.code != 1 || !strings.Contains(r.stderr+r.stdout, `the backup of "slow" did not end within its timeout (4s)`) {
		t.Fatalf("up slow: %v, want exit code 1 naming the timeout", r)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("up slow took %s with a 4s timeout", d)
	}
	if ps := p.processes(t, "slow"); strings.Contains(ps, "sleep 3001") {
		t.Errorf("the timed-out dump still runs in slow:\n%s", ps)
	}

	s := p.start(t, nil, pluginBin(), "up", "stuck")
	p.waitProcess(t, s, "stuck", "sleep 3002")
	s.signal(t, os.Interrupt)
	res := s.wait(t, 30*time.Second)
	if res.code != 130 {
		t.Errorf("up stuck after Ctrl-C: %v, want exit code 130", res)
	}
	if ps := p.processes(t, "stuck"); strings.Contains(ps, "sleep 3002") {
		t.Errorf("the cancelled dump still runs in stuck after %v:\n%s", res, ps)
	}
	// A second Ctrl-C does not wait for the cleanup (here a post hook that takes its
	// time): the command exits at once.
	s = p.start(t, nil, pluginBin(), "up", "lingering")
	p.waitProcess(t, s, "lingering", "sleep 3003")
	s.signal(t, os.Interrupt)
	p.waitProcess(t, s, "lingering", "sleep 3004")
	s.signal(t, os.Interrupt)
	if res := s.wait(t, 5*time.Second); res.code != 130 {
		t.Errorf("up lingering after a second Ctrl-C: %v, want exit code 130 at once", res)
	}
	// That run ended without its cleanup: the next one does it.
	p.mustBackup(t, "up", "app")

	repo, key := p.localRepo()
	for _, svc := range []string{"slow", "stuck", "lingering"} {
		if snaps := snapshots(t, repo, key, "--tag", "service="+svc); len(snaps) != 0 {
			t.Errorf("%s's ended dump left snapshots %v", svc, snapshotIDs(snaps))
		}
	}
	p.checkRunEnded(t)
}
