package backup

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine/enginetest"
)

// twoDumps is a plan of two dump services, db and cache, whose dumps succeed.
func twoDumps(f *fixture) *composeext.Plan {
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.eng.AddContainer(enginetest.ServiceContainer("c2", "shop", "cache", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
	f.execs["redis-dump"] = fakeExec{stdout: "SET k v\n"}
	cache := dumpService("redis-dump")
	cache.Name, cache.Tags = "cache", []string{"service=cache"}
	// Each dump gets its own snapshot.
	f.rst.On("backup", func(c enginetest.Call) enginetest.Reply {
		id := "1111111111111111"
		if strings.Contains(c.String(), "service=cache") {
			id = "2222222222222222"
		}
		return enginetest.Reply{Stdout: `{"message_type":"summary","snapshot_id":"` + id + `"}`}
	})
	return testPlan(dumpService("pg_dumpall"), cache)
}

func TestUpConfirmsDumpsWithOneTag(t *testing.T) {
	f := newFixture(t)
	plan := twoDumps(f)
	results, _, rep := f.up(t, plan, Options{Parallel: 2})
	tags := f.rst.Find("tag")
	if len(tags) != 1 {
		t.Fatalf("restic ran %v, want one tag for both dumps", f.rst.Commands())
	}
	args := tags[0].String()
	if !strings.HasPrefix(args, "tag --json --remove unconfirmed ") || !strings.Contains(args, "1111111111111111") || !strings.Contains(args, "2222222222222222") {
		t.Errorf("tag ran %q, want --remove unconfirmed on both snapshots", args)
	}
	for i, old := range []string{"1111111111111111", "2222222222222222"} {
		if r := results[i]; r.Status != StatusOK || r.Summary.SnapshotID != confirmedID(old) {
			t.Errorf("%s: %s with snapshot %s, want ok with the confirmed snapshot %s", r.Service, r.Status, r.Summary.SnapshotID, confirmedID(old))
		}
	}
	// A dump is reported done once confirmed, with the new ID.
	rep.mu.Lock()
	defer rep.mu.Unlock()
	for _, d := range rep.done {
		if !strings.HasPrefix(d.Summary.SnapshotID, "c0ffee") {
			t.Errorf("%s reported done with snapshot %s before its confirmation", d.Service, d.Summary.SnapshotID)
		}
	}
	if len(rep.done) != 2 {
		t.Errorf("%d services reported done, want 2", len(rep.done))
	}
}

func TestUpConfirmationFailureFailsTheDump(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply enginetest.Reply
		want  string
	}{
		{"locked", enginetest.Reply{Stderr: "unable to create lock in backend: repository is already locked exclusively by PID 7 on docker-backup-abc by root (UID 0, GID 0)\n", Code: 11}, "PID 7 on host docker-backup-abc"},
		{"silent", enginetest.Reply{}, "restic did not report the confirmed snapshot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
			f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
			f.rst.Reply("tag", tc.reply)
			results, _, _ := f.up(t, testPlan(dumpService("pg_dumpall")), Options{})
			r := results[0]
			if r.Status != StatusFailed || r.Err == nil {
				t.Fatalf("result %+v, want failed", r)
			}
			for _, part := range []string{"abcdef12", "could not be confirmed", tc.want} {
				if !strings.Contains(r.Err.Error(), part) {
					t.Errorf("error %q lacks %q", r.Err, part)
				}
			}
		})
	}
}

func TestUpConfirmsOnlyDumps(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", true))
	svc := composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes,
		Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_data", Target: "/data", Path: "/backup/files/data"}}}
	results, _, _ := f.up(t, testPlan(svc), Options{})
	if results[0].Status != StatusOK || results[0].Summary.SnapshotID != "abcdef1234567890" {
		t.Errorf("result %+v", results[0])
	}
	if got := f.rst.Find("tag"); len(got) != 0 {
		t.Errorf("a volumes snapshot was tagged: %v", f.rst.Commands())
	}
}

func TestUpAppliesRetentionPerService(t *testing.T) {
	f := newFixture(t)
	db := dumpService("pg_dumpall")
	db.Retention = &composeext.Retention{KeepLast: 3, KeepDaily: 7}
	broken := dumpService("missing")
	broken.Name, broken.Retention = "broken", &composeext.Retention{KeepLast: 1}
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.eng.AddContainer(enginetest.ServiceContainer("c2", "shop", "broken", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
	results, _, _ := f.up(t, testPlan(db, broken), Options{Parallel: 1})
	want := []string{"forget --json --group-by host,paths --host shop@m1 --host shop --tag project=shop,service=db --keep-last 3 --keep-daily 7"}
	var got []string
	for _, c := range f.rst.Find("forget") {
		got = append(got, c.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("forget ran %q, want %q (none for the failed service)", got, want)
	}
	if results[1].Status != StatusFailed {
		t.Errorf("broken: %s", results[1].Status)
	}

	f = newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "x"}
	f.rst.Reply("forget", enginetest.Reply{Stderr: "Fatal: boom\n", Code: 1})
	results, _, _ = f.up(t, testPlan(db), Options{})
	if r := results[0]; r.Status != StatusOK || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "retention not applied") {
		t.Errorf("result %+v, want ok with a retention warning", r)
	}
	f = newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "x"}
	f.up(t, testPlan(db), Options{NoForget: true})
	if got := f.rst.Find("forget"); len(got) != 0 {
		t.Errorf("--no-forget forgot: %v", f.rst.Commands())
	}
}

// A dump stored whole is confirmed even when a post hook fails: the snapshot is good,
// the failing hook is a warning.
func TestUpConfirmsADumpWhosePostHookFails(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
	f.execs["notify"] = fakeExec{stderr: "unreachable\n", code: 1}
	svc := dumpService("pg_dumpall")
	svc.Post = [][]string{{"notify"}}
	results, _, rep := f.up(t, testPlan(svc), Options{})
	r := results[0]
	if r.Status != StatusWarning || r.Err != nil || !slices.ContainsFunc(r.Warnings, func(w string) bool {
		return strings.Contains(w, "post hook 1 exited with code 1: unreachable")
	}) {
		t.Fatalf("result %s %v %q, want a warning naming the post hook", r.Status, r.Err, r.Warnings)
	}
	if tags := f.rst.Find("tag"); len(tags) != 1 || !strings.Contains(tags[0].String(), "abcdef1234567890") {
		t.Errorf("restic ran %v, want the stored dump confirmed", f.rst.Commands())
	}
	if r.Summary.SnapshotID != confirmedID("abcdef1234567890") {
		t.Errorf("snapshot %s, want the confirmed one", r.Summary.SnapshotID)
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if len(rep.done) != 1 {
		t.Errorf("reported done %d times, want once", len(rep.done))
	}
}

// Retention would count unconfirmed snapshots a dead run left: it waits for the run
// that forgets them.
func TestUpSkipsRetentionWhileUnconfirmedSnapshotsRemain(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
	f.rst.On("snapshots", func(c enginetest.Call) enginetest.Reply {
		if strings.Contains(c.String(), "unconfirmed") {
			return enginetest.Reply{Stdout: `[{"id":"9999999999","short_id":"99999999","hostname":"shop@m1","tags":["project=shop","service=db","run=dead1","unconfirmed"]}]`}
		}
		return enginetest.Reply{Stdout: "[]"}
	})
	f.rst.Reply("forget", enginetest.Reply{Stderr: "unable to create lock in backend: repository is already locked exclusively by PID 7 on other by root (UID 0, GID 0)\n", Code: 11})
	svc := dumpService("pg_dumpall")
	svc.Retention = &composeext.Retention{KeepLast: 3}
	results, _, rep := f.up(t, testPlan(svc), Options{})
	if results[0].Status != StatusOK {
		t.Fatalf("result %+v", results[0])
	}
	for _, c := range f.rst.Find("forget") {
		if strings.Contains(c.String(), "--keep-last") {
			t.Errorf("retention ran while unconfirmed snapshots remain: %s", c)
		}
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if !slices.ContainsFunc(rep.events, func(e string) bool { return strings.HasPrefix(e, "warn retention not applied") }) {
		t.Errorf("events %q, want a warning that retention waits", rep.events)
	}
}
