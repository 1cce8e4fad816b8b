//go:build e2e

package e2e

import (
	"strings"
	"syscall"
	"testing"
)

// recoveringCommands ends the line a read-only command prints about a dead run.
const recoveringCommands = "the next docker backup up, restore, verify or forget of the project "

// deadRunLines are the lines of stderr that say what a dead run left.
func deadRunLines(stderr string) []string {
	var out []string
	for _, l := range lines(stderr) {
		if strings.Contains(l, "dead run") {
			out = append(out, l)
		}
	}
	return out
}

// TestForgetRecoversKilledRestore kills a restore (-9) the moment it has stopped its
// service for the swap. status, which changes nothing, names in one line what is
// left; forget, with no retention policy configured, still refuses with exit code 2,
// but first starts the service again and removes the staging volumes, and the live
// volume is wholly the old content or wholly the restored one.
func TestForgetRecoversKilledRestore(t *testing.T) {
	t.Parallel()
	p := newProject(t, "restore-files")
	p.exec(t, "files", "sh", "-c", "cd /srv/uploads && mkdir -p d && for i in 1 2 3 4 5 6 7 8; do echo snap $i > d/f$i; done && echo small > small")
	live := p.volume(t, "uploads")
	restored := volumeTree(t, live)
	p.mustBackup(t, "up", "files")
	p.exec(t, "files", "sh", "-c", "cd /srv/uploads && echo changed > small && rm d/f3 && echo new > d/new")
	old := volumeTree(t, live)
	files := p.container(t, "files")

	died := containerDies(t, files)
	s := p.start(t, nil, pluginBin(), "restore", "files", "--yes")
	killAt(t, s, died, "it stopped the service")
	p.waitSwapHelpersGone(t)
	if st := state(t, files); st != "exited" {
		t.Fatalf("the service is %q after the restore was killed while it was stopped, want exited", st)
	}
	if len(p.stopRecords(t)) == 0 {
		t.Fatal("the killed restore left no stop record")
	}

	r := p.backup(t, "status")
	if r.code != 0 {
		t.Fatalf("status: %v", r)
	}
	got := deadRunLines(r.stderr)
	t.Logf("status said: %q", got)
	if len(got) != 1 || !strings.Contains(got[0], "a dead run (restore, run ") || !strings.Contains(got[0], "of project "+p.name+" left service files stopped") ||
		!strings.HasSuffix(got[0], recoveringCommands+"starts files again and removes the rest") {
		t.Errorf("status after the killed restore printed %q, want one line naming files stopped and the commands that start it: %v", got, r)
	}
	if st := state(t, files); st != "exited" {
		t.Errorf("status changed the service's state to %q", st)
	}

	r = p.backup(t, "forget")
	t.Logf("forget said:\n%s", r.stderr)
	if r.code != 2 || !strings.Contains(r.stderr, "no retention policy") {
		t.Errorf("forget without a retention policy: want exit code 2 and its message, got %v", r)
	}
	if !strings.Contains(r.stderr, "started container") {
		t.Errorf("forget does not say that it started the service again: %v", r)
	}
	if st := state(t, files); st != "running" {
		t.Fatalf("the service is %q after forget, want running", st)
	}
	switch got := volumeTree(t, live); got {
	case old:
		t.Log("killed before the swap: the live volume is the old tree")
	case restored:
		t.Log("the swap was finished: the live volume is the restored tree")
	default:
		t.Fatalf("after forget the live volume is neither the old nor the restored tree:\n%s", got)
	}
	if left := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label="+labelProject+"="+p.name, "--filter", "label=io.docker-backup.temporary")); len(left) > 0 {
		t.Errorf("temporary volumes left after forget: %q", left)
	}
	p.checkRunEnded(t)
	if r := p.backup(t, "snapshots"); r.code != 0 || len(deadRunLines(r.stderr)) > 0 {
		t.Errorf("snapshots after forget recovered: %v", r)
	}
}

// TestReadOnlyCommandsNameKilledVerify kills verify (-9) while its throwaway copy of the
// service runs the check: snapshots and status, which change nothing, leave the copy
// and each name it in one line with the commands that remove it; the next up does.
func TestReadOnlyCommandsNameKilledVerify(t *testing.T) {
	t.Parallel()
	p := newProject(t, "recover-next")
	p.pgSQL(t, "pg", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 20) g;")
	p.mustBackup(t, "up")
	s := p.start(t, nil, pluginBin(), "verify", "pg")
	copyID := p.waitThrowaway(t, s, "sleep 120")
	s.signal(t, syscall.SIGKILL)
	s.wait(t, restoreBound)
	if st := state(t, copyID); st != "running" {
		t.Fatalf("the throwaway copy is %q after verify was killed, want running: nothing left to name", st)
	}

	for _, cmd := range []string{"snapshots", "status"} {
		r := p.backup(t, cmd)
		if r.code != 0 {
			t.Errorf("%s: %v", cmd, r)
			continue
		}
		got := deadRunLines(r.stderr)
		t.Logf("%s said: %q", cmd, got)
		if len(got) != 1 || !strings.Contains(got[0], "a dead run (verify, run ") ||
			!strings.Contains(got[0], "of project "+p.name+" left a throwaway copy of service pg") ||
			!strings.HasSuffix(got[0], recoveringCommands+"removes them") {
			t.Errorf("%s after the killed drill printed %q, want one line naming the copy and the commands that remove it: %v", cmd, got, r)
		}
		if strings.Contains(r.stderr, "app-secret") {
			t.Errorf("%s printed a password: %v", cmd, r)
		}
		if st := state(t, copyID); st != "running" {
			t.Errorf("%s changed the throwaway copy: it is %q", cmd, st)
		}
	}

	p.mustBackup(t, "up")
	if st := state(t, copyID); st != "" {
		t.Errorf("the killed drill's copy is still there (%s) after up", st)
	}
	p.checkDrillEnded(t)
	if r := p.backup(t, "snapshots"); r.code != 0 || len(deadRunLines(r.stderr)) > 0 {
		t.Errorf("snapshots after up recovered: %v", r)
	}
}
