//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUpLockHeldByAnother holds locks on the project's repository with plain restic on
// the host (another host name than the plugin's helpers, live processes): up must never
// remove them. A shared lock (`restic backup --stdin`, a reader or another machine's
// backup) no longer stops up at all: a dump is committed whole by restic alone, with no
// exclusive step. An exclusive one (`restic key passwd` waiting for its new password)
// fails up in one line naming the holder, with nothing stored; with --retry-lock, up
// waits and succeeds once the holder has ended.
func TestUpLockHeldByAnother(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	p.seedNotes(t, 50, "note")
	repo, key := p.localRepo()
	initRepo(t, repo, key)
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	hold := func(what string, args ...string) (*started, []string) {
		t.Helper()
		holder := startSpec(t, hostRestic(repo, key, args...), true)
		var held []string
		eventually(t, helperWait, what+"'s lock", func() error {
			if holder.exited() {
				t.Fatalf("the lock holder ended early: %v", holder.res)
			}
			if held = locks(t, repo, key); len(held) == 0 {
				return errors.New("no lock yet")
			}
			return nil
		})
		return holder, held
	}
	keepsLock := func(when string, held []string) {
		t.Helper()
		now := locks(t, repo, key)
		for _, id := range held {
			if !slices.Contains(now, id) {
				t.Errorf("%s: the holder's lock %.8s is gone (locks now: %v)", when, id, now)
			}
		}
	}

	shared, held := hold("a plain restic backup", "backup", "--stdin", "--stdin-filename", "holder.txt")
	if _, err := shared.stdin.Write([]byte("held\n")); err != nil {
		t.Fatal(err)
	}
	if r := p.backup(t, "up", "db"); r.code != 0 {
		t.Fatalf("up while another process holds a shared lock: %v", r)
	}
	keepsLock("after up beside a shared lock", held)
	if err := shared.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if hr := shared.wait(t, helperWait); hr.code != 0 {
		t.Errorf("the shared lock's holder failed (was its lock removed?): %v", hr)
	}
	// --no-lock: the exclusive holder below would stop a listing that takes a lock.
	dbSnapshots := func() []string {
		var ids []string
		for _, s := range snapshots(t, repo, key, "--no-lock") {
			if s.tag("service") == "db" {
				ids = append(ids, s.ID)
			}
		}
		return ids
	}
	before := dbSnapshots()

	exclusive, held := hold("restic key passwd", "key", "passwd")
	r := p.backup(t, "up", "db")
	if r.code != 1 {
		t.Fatalf("up while another process holds an exclusive lock: exit code %d, want 1: %v", r.code, r)
	}
	var lockLines []string
	for _, l := range lines(r.stdout + "\n" + r.stderr) {
		if strings.Contains(l, "repository is locked:") {
			lockLines = append(lockLines, l)
		}
	}
	holderWords := fmt.Sprintf("an exclusive lock is held by PID %d on host %s", exclusive.cmd.Process.Pid, hostname)
	if len(lockLines) != 1 || !strings.Contains(lockLines[0], holderWords) || !strings.Contains(lockLines[0], "--retry-lock") {
		t.Errorf("want one line saying the repository is locked, %q, and pointing to --retry-lock; got %q\n%v", holderWords, lockLines, r)
	}
	keepsLock("after up failed", held)
	if after := dbSnapshots(); !slices.Equal(after, before) {
		t.Errorf("db snapshots %v after the failed up, want %v: nothing stored", after, before)
	}

	waiting := p.start(t, nil, "docker", "backup", "up", "--retry-lock", "2m", "db")
	// The dump's restic waits for the lock; the dump itself starts only once restic has it.
	eventually(t, helperWait, "up --retry-lock to wait for the lock", func() error {
		if waiting.exited() {
			t.Fatalf("up --retry-lock ended while the lock was held: %v", waiting.res)
		}
		if kinds := p.runningHelperKinds(t); slices.Contains(kinds, "dump") {
			return nil
		}
		return errors.New("no dump helper yet")
	})
	keepsLock("while up waits", held)
	if ps := p.processes(t, "db"); strings.Contains(ps, "sqlite3") {
		t.Errorf("the dump runs while restic waits for the lock:\n%s", ps)
	}
	// The holder gives up (its input ends before a new password): restic removes its lock.
	if err := exclusive.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	exclusive.wait(t, helperWait)
	if wr := waiting.wait(t, helperWait); wr.code != 0 {
		t.Fatalf("up --retry-lock after the holder ended: %v", wr)
	}

	snaps := snapshots(t, repo, key)
	var db, own []snapshot
	for _, s := range snaps {
		switch {
		case s.has("unconfirmed"):
			t.Errorf("snapshot %.8s is still unconfirmed after a successful up: %v", s.ID, s.Tags)
		case s.tag("service") == "db":
			db = append(db, s)
		case slices.Equal(s.Paths, []string{"/holder.txt"}):
			own = append(own, s)
		}
	}
	if len(db) != 2 || len(own) != 1 {
		t.Fatalf("want the two successful ups' db snapshots and the holder's own; got db %v, holder %v", snapshotIDs(db), snapshotIDs(own))
	}
	for _, s := range db {
		if dump := resticCmd(repo, key, nil, "--no-cache", "dump", s.ID, "/db.sql").run(); dump.code != 0 || !strings.Contains(dump.stdout, "note 50") {
			t.Errorf("the dump %.8s lacks the notes: %v", s.ID, dump.cmd)
		}
	}
	if got := resticCmd(repo, key, nil, "--no-cache", "dump", own[0].ID, "/holder.txt").run(); got.stdout != "held\n" {
		t.Errorf("the holder's snapshot holds %q, want %q", got.stdout, "held\n")
	}
	if l := locks(t, repo, key); len(l) != 0 {
		t.Errorf("locks left at the end: %v", l)
	}
	p.checkRunEnded(t)
}

// TestUpKilledMidDump kills the plugin while a dump streams on the engine's host: the
// dump helper sees the plugin go (its held input ends), ends the dump in the db
// container and stops restic, whose command (the agent's relay) never exits 0, so no
// partial snapshot is committed at all. snapshots and restore, run before any up, see only the good
// snapshot, and the next up works.
func TestUpKilledMidDump(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	repo, key := p.localRepo()
	p.seedNotes(t, 50, "note")
	good := p.notes(t)
	p.mustBackup(t, "up", "db")
	first := snapshotsByService(t, repo, key, nil)["db"]
	if len(first) != 1 || first[0].has("unconfirmed") {
		t.Fatalf("want one db snapshot, with no unconfirmed tag, after up, got %+v", first)
	}
	p.sqlite(t, "INSERT INTO notes SELECT id + 50, 'later ' || id FROM notes; UPDATE notes SET body = 'edited' WHERE id = 3;")
	if p.notes(t) == good {
		t.Fatal("the change changed nothing")
	}

	p.killMidDump(t)

	// restic's command never exited 0: nothing of the killed run was committed.
	if after := snapshotsByService(t, repo, key, nil)["db"]; len(after) != 1 || after[0].ID != first[0].ID {
		t.Fatalf("want only the good snapshot %.8s after the killed run, got %v", first[0].ID, snapshotIDs(after))
	}
	rows := p.listed(t)
	if len(rows) != 1 || rows[0].ID != first[0].ID {
		t.Errorf("snapshots lists %+v, want only the good snapshot %.8s", rows, first[0].ID)
	}

	p.sqlite(t, "DELETE FROM notes WHERE id > 10; INSERT INTO notes VALUES (999, 'damage');")
	restored := p.backup(t, "restore", "db", "--yes")
	if restored.code != 0 {
		t.Fatalf("restore after the killed run: %v", restored)
	}
	if got := p.notes(t); got != good {
		t.Errorf("restore restored %.60q…, want the good backup's %.60q…", got, good)
	}

	p.mustBackup(t, "up", "db")
	after := snapshotsByService(t, repo, key, nil)["db"]
	for _, s := range after {
		if s.has("unconfirmed") {
			t.Errorf("snapshot %.8s (%v) is unconfirmed after the next runs", s.ID, s.Tags)
		}
	}
	if len(after) != 2 {
		t.Errorf("want the good and the new db snapshot, got %v", snapshotIDs(after))
	}
	p.checkRunEnded(t)
}

// TestUpConcurrentRuns starts two ups of one project together: the second waits for
// the first (or gives up with one clear line), and no snapshot is lost.
func TestUpConcurrentRuns(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	repo, key := p.localRepo()
	p.seedNotes(t, 20, "note")
	p.exec(t, "files", "sh", "-c", "echo one > /srv/data/one")
	initRepo(t, repo, key)

	runs := []*started{
		p.start(t, nil, "docker", "backup", "up", "--json"),
		p.start(t, nil, "docker", "backup", "up", "--json"),
	}
	var ids []string
	succeeded := 0
	for i, s := range runs {
		r := s.wait(t, 3*time.Minute)
		switch r.code {
		case 0:
			succeeded++
			done := doneEvents(t, r.stdout)
			for _, svc := range []string{"db", "files"} {
				e := done[svc]
				if e.Status != "ok" || e.Summary == nil || e.Summary.SnapshotID == "" {
					t.Errorf("run %d: service %s ended %+v, want ok with a snapshot", i, svc, e)
					continue
				}
				ids = append(ids, e.Summary.SnapshotID)
			}
		case 1:
			if l := lines(r.stderr); len(l) != 1 || !strings.HasPrefix(l[0], "another docker-backup run of the project is in progress: ") {
				t.Errorf("run %d failed without the one line saying another run is in progress: %v", i, r)
			}
		default:
			t.Errorf("run %d: %v", i, r)
		}
	}
	if succeeded == 0 {
		t.Fatal("neither run succeeded")
	}

	snaps := snapshots(t, repo, key)
	host := p.name + "@" + machineName(t)
	count := map[string]int{}
	for _, s := range snaps {
		count[s.tag("service")]++
		if s.has("unconfirmed") {
			t.Errorf("snapshot %.8s is unconfirmed: %v", s.ID, s.Tags)
		}
		if s.Host != host {
			t.Errorf("snapshot %.8s has host %q, want %q", s.ID, s.Host, host)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(snaps, func(s snapshot) bool { return strings.HasPrefix(s.ID, id) }) {
			t.Errorf("snapshot %.8s that a successful run reported is not in the repository", id)
		}
	}
	for _, svc := range []string{"db", "files"} {
		if count[svc] != succeeded {
			t.Errorf("service %s has %d snapshots, want %d (one per successful run)", svc, count[svc], succeeded)
		}
		if st := p.serviceState(t, svc); st != "running" {
			t.Errorf("service %s is %s after the runs, want running", svc, st)
		}
	}
	// The runs excluded each other: the times of one run's snapshots do not fall among
	// the other's.
	var timed []timedSnapshot
	if err := json.Unmarshal([]byte(resticJSON(t, repo, key, "snapshots")), &timed); err != nil {
		t.Fatal(err)
	}
	spans := map[string][2]time.Time{}
	for _, s := range timed {
		run := snapshot{Tags: s.Tags}.tag("run")
		span, ok := spans[run]
		if !ok || s.Time.Before(span[0]) {
			span[0] = s.Time
		}
		if !ok || s.Time.After(span[1]) {
			span[1] = s.Time
		}
		spans[run] = span
	}
	for run, a := range spans {
		for other, b := range spans {
			if run < other && !a[1].Before(b[0]) && !b[1].Before(a[0]) {
				t.Errorf("runs %s (%v) and %s (%v) overlap", run, a, other, b)
			}
		}
	}
	if c := resticCmd(repo, key, nil, "--no-cache", "check").run(); c.code != 0 || !strings.Contains(c.stdout, "no errors were found") {
		t.Errorf("restic check: %v", c)
	}
	p.checkRunEnded(t)
}
