//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpSharedRepository is issue 20's shared repository: two projects with their own
// x-backup.host (two "machines") back up a PostgreSQL dump and a volume each into one
// folder repository at the same time, three rounds, while a reader loops plain
// `restic snapshots` (which takes a lock) on it. No dump needs restic's exclusive lock
// any more, so every run exits 0, every snapshot it reported is in the repository with
// no unconfirmed tag, listed by `docker backup snapshots` and holding the round's data,
// and `restic check` is clean. Then the plugin of one machine is killed (kill -9)
// mid-dump in that set-up: nothing of that dump is committed.
func TestUpSharedRepository(t *testing.T) {
	t.Parallel()
	shared := t.TempDir()
	repo, key := filepath.Join(shared, "repo"), filepath.Join(shared, "repo.key")
	initRepo(t, repo, key)
	machines := map[string]*project{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range []string{"machine-a", "machine-b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newPreparedProject(t, "shared-repo", func(p *project) {
				dotenv := fmt.Sprintf("SHARED_MACHINE=%s\nSHARED_REPO=%s\nSHARED_KEY=%s\n", m, repo, key)
				if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte(dotenv), 0o600); err != nil {
					t.Error(err)
				}
			})
			mu.Lock()
			machines[m] = p
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	reader := startReader(t, repo, key)
	reported := map[string][]string{} // machine/service: snapshot IDs, one per round
	marks := map[string][]string{}    // machine/service: the round's mark in its data
	for round := 1; round <= 3; round++ {
		runs := map[string]*started{}
		for m, p := range machines {
			mark := fmt.Sprintf("%s-round-%d-%s", m, round, randomHex(4))
			p.execInput(t, "db", "CREATE TABLE IF NOT EXISTS marks (m text); INSERT INTO marks VALUES ('"+mark+"');",
				"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "app", "-d", "appdb")
			p.exec(t, "files", "sh", "-c", "echo "+mark+" > /srv/data/round-"+fmt.Sprint(round))
			marks[m+"/db"] = append(marks[m+"/db"], mark)
			marks[m+"/files"] = append(marks[m+"/files"], mark)
		}
		for m, p := range machines {
			runs[m] = p.start(t, nil, "docker", "backup", "up", "--json")
		}
		for m, s := range runs {
			r := s.wait(t, 5*time.Minute)
			if r.code != 0 {
				t.Fatalf("round %d, %s: up beside the other machine and a reader: %v", round, m, r)
			}
			done := doneEvents(t, r.stdout)
			for _, svc := range []string{"db", "files"} {
				e := done[svc]
				if e.Status != "ok" || e.Summary == nil || e.Summary.SnapshotID == "" {
					t.Fatalf("round %d, %s: service %s ended %+v, want ok with a snapshot", round, m, svc, e)
				}
				reported[m+"/"+svc] = append(reported[m+"/"+svc], e.Summary.SnapshotID)
			}
		}
	}
	reads := reader.stop(t)
	if reads < 3 {
		t.Errorf("the reader listed the snapshots %d times during the rounds, want it to have run throughout", reads)
	}

	snaps := snapshots(t, repo, key)
	byID := map[string]snapshot{}
	for _, s := range snaps {
		if s.has("unconfirmed") {
			t.Errorf("snapshot %.8s (%s) carries the unconfirmed tag: %v", s.ID, s.Host, s.Tags)
		}
		byID[s.ID] = s
	}
	if len(snaps) != 12 {
		t.Errorf("the repository holds %d snapshots, want 12 (2 machines × 2 services × 3 rounds)", len(snaps))
	}
	for m, p := range machines {
		var listed []string
		for _, row := range p.listed(t) {
			listed = append(listed, row.ID)
		}
		for _, svc := range []string{"db", "files"} {
			for round, id := range reported[m+"/"+svc] {
				s, ok := byID[id]
				switch {
				case !ok:
					t.Errorf("%s %s round %d: snapshot %.8s that up reported is not in the repository", m, svc, round+1, id)
					continue
				case s.Host != p.name+"@"+m || s.tag("service") != svc:
					t.Errorf("%s %s round %d: snapshot %.8s has host %s, tags %v", m, svc, round+1, id, s.Host, s.Tags)
				case !slices.Contains(listed, id):
					t.Errorf("%s: snapshots does not list %s's snapshot %.8s of round %d (lists %v)", m, svc, id, round+1, listed)
				}
				if round == len(reported[m+"/"+svc])-1 {
					checkRoundData(t, repo, key, s, marks[m+"/"+svc])
				}
			}
		}
		if len(listed) != 6 {
			t.Errorf("%s: snapshots lists %d snapshots, want its own 6", m, len(listed))
		}
	}
	if r := hostRestic(repo, key, "check").run(); r.code != 0 || !strings.Contains(r.stdout, "no errors were found") {
		t.Errorf("restic check after the rounds: %v", r)
	}

	// kill -9 of machine-a's plugin mid-dump, machine-b backing up and the reader
	// reading meanwhile: nothing of the dump is committed.
	reader = startReader(t, repo, key)
	a, b := machines["machine-a"], machines["machine-b"]
	other := b.start(t, nil, "docker", "backup", "up", "--json")
	a.killMidDump(t)
	if r := other.wait(t, 5*time.Minute); r.code != 0 {
		t.Errorf("machine-b's up beside machine-a's killed run: %v", r)
	}
	reader.stop(t)
	var dbA []string
	for _, s := range snapshots(t, repo, key) {
		if s.Host == a.name+"@machine-a" && s.tag("service") == "db" {
			dbA = append(dbA, s.ID)
		}
	}
	slices.Sort(dbA)
	if !slices.Equal(dbA, sorted(reported["machine-a/db"])) {
		t.Errorf("machine-a's db snapshots after the killed dump: %v, want only the 3 of the rounds %v", dbA, reported["machine-a/db"])
	}
	if rows := a.listed(t); len(rows) != 6 {
		t.Errorf("machine-a lists %d snapshots after the killed dump, want its 6: %+v", len(rows), rows)
	}
	if r := hostRestic(repo, key, "check").run(); r.code != 0 {
		t.Errorf("restic check after the killed dump: %v", r)
	}
}

// checkRoundData checks that the last round's snapshot holds every round's mark: the
// dump the rows inserted so far, the volume a file per round.
func checkRoundData(t *testing.T, repo, key string, s snapshot, marks []string) {
	t.Helper()
	var dumped string
	if s.tag("strategy") == "dump" && len(s.Paths) == 1 {
		dumped = hostRestic(repo, key, "dump", s.ID, s.Paths[0]).run().stdout
	}
	for i, mark := range marks {
		got := dumped
		if s.tag("strategy") != "dump" {
			got = hostRestic(repo, key, "dump", s.ID, fmt.Sprintf("/backup/files/data/round-%d", i+1)).run().stdout
		}
		if !strings.Contains(got, mark) {
			t.Errorf("snapshot %.8s (%s, %s) lacks round %d's %q", s.ID, s.Host, s.tag("service"), i+1, mark)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// reader loops plain `restic snapshots` (with its lock) on a repository, as a
// monitoring job or an exporter does, about once a second.
type reader struct {
	stopped chan struct{}
	done    chan struct{}
	reads   int
	errs    []string
}

func startReader(t *testing.T, repo, key string) *reader {
	t.Helper()
	rd := &reader{stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(rd.done)
		for {
			r := hostRestic(repo, key, "snapshots", "--json").run()
			if r.code == 0 {
				rd.reads++
			} else {
				rd.errs = append(rd.errs, r.String())
			}
			select {
			case <-rd.stopped:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-rd.stopped:
		default:
			close(rd.stopped)
		}
		<-rd.done
	})
	return rd
}

// stop ends the loop and returns how many listings succeeded; a reader that failed
// (an exclusive lock met it) is logged, as it is no backup of ours.
func (rd *reader) stop(t *testing.T) int {
	t.Helper()
	close(rd.stopped)
	<-rd.done
	for _, e := range rd.errs {
		t.Logf("the reader failed once: %s", e)
	}
	return rd.reads
}

// TestUpForgetsAnEarlierVersionsUnconfirmedDump: dumps are no longer tagged unconfirmed,
// but one that an earlier version's killed run left is still never listed or restored,
// and the next up forgets it and says so.
func TestUpForgetsAnEarlierVersionsUnconfirmedDump(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	repo, key := p.localRepo()
	initRepo(t, repo, key)
	p.seedNotes(t, 5, "note")
	machine := []string{"DOCKER_BACKUP_HOST=machine-a"}
	forge := hostRestic(repo, key, "backup", "--json", "--stdin", "--stdin-filename", "db.sql", "--host", p.name+"@machine-a",
		"--tag", "project="+p.name+",service=db,strategy=dump,run=old0run1,unconfirmed")
	forge.stdin = "-- a dump an interrupted run of an earlier version left\n"
	if r := forge.run(); r.code != 0 {
		t.Fatalf("writing an unconfirmed snapshot: %v", r)
	}
	old := snapshots(t, repo, key)
	if len(old) != 1 {
		t.Fatalf("want the forged snapshot, got %v", old)
	}
	if rows := p.listed(t, machine...); len(rows) != 0 {
		t.Errorf("snapshots lists %+v, want nothing: the only snapshot is unconfirmed", rows)
	}
	// Refused as a snapshot that is not there (the service has no usable one yet).
	notes := p.notes(t)
	if r := p.backupEnv(t, machine, "restore", "db@"+old[0].ID[:8], "--yes"); r.code == 0 {
		t.Errorf("restoring the unconfirmed snapshot: want a refusal: %v", r)
	}
	if p.notes(t) != notes {
		t.Errorf("a refused restore changed the data")
	}
	r := p.backupEnv(t, machine, "up", "db")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "forgot snapshot db@"+old[0].ID[:8]) {
		t.Fatalf("up after an earlier version's interrupted run: want exit 0 and the forgotten snapshot named: %v", r)
	}
	snaps := snapshots(t, repo, key)
	if len(snaps) != 1 || snaps[0].ID == old[0].ID || snaps[0].has("unconfirmed") {
		t.Errorf("snapshots after up: %+v, want only the new dump, with no unconfirmed tag", snaps)
	}
	p.checkRunEnded(t)
}
