package backup

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/retention"
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

// A dump is committed by restic alone, whole (its relay exits 0 only then): no restic
// command follows it, and nothing it writes is marked unconfirmed. A dump up runs one
// restic process fewer than when a `restic tag` confirmed each run's dumps (2, was 3).
func TestUpCommitsDumpsWithoutAnExclusiveStep(t *testing.T) {
	f := newFixture(t)
	plan := twoDumps(f)
	results, _, rep := f.up(t, plan, Options{Parallel: 2})
	var commands []string
	for _, c := range f.rst.Calls() {
		commands = append(commands, c.Command())
		if strings.Contains(c.String(), "unconfirmed") && c.Command() != "snapshots" {
			t.Errorf("restic ran %q: a new dump carries no unconfirmed tag", c)
		}
	}
	slices.Sort(commands)
	if want := []string{"backup", "backup", "snapshots"}; !slices.Equal(commands, want) {
		t.Errorf("restic ran %v, want %v: the open and one backup per dump, nothing after", f.rst.Commands(), want)
	}
	for i, id := range []string{"1111111111111111", "2222222222222222"} {
		if r := results[i]; r.Status != StatusOK || r.Summary.SnapshotID != id {
			t.Errorf("%s: %s with snapshot %s, want ok with %s", r.Service, r.Status, r.Summary.SnapshotID, id)
		}
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if len(rep.done) != 2 {
		t.Errorf("%d services reported done, want 2", len(rep.done))
	}
}

// The measure of issue 20: restic processes of `up` with one dump service.
func TestUpDumpResticProcesses(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
	f.up(t, testPlan(dumpService("pg_dumpall")), Options{})
	if got := f.rst.Commands(); len(got) != 2 {
		t.Errorf("restic ran %d times (%q), want 2: the open (snapshots) and the backup", len(got), got)
	}
}

func TestUpVolumesHaveNoExtraStep(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", true))
	svc := composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes,
		Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_data", Target: "/data", Path: "/backup/files/data"}}}
	results, _, _ := f.up(t, testPlan(svc), Options{})
	if results[0].Status != StatusOK || results[0].Summary.SnapshotID != "abcdef1234567890" {
		t.Errorf("result %+v", results[0])
	}
	if got := f.rst.Commands(); len(got) != 2 {
		t.Errorf("restic ran %v, want the open and the backup", got)
	}
}

func TestUpAppliesRetentionPerService(t *testing.T) {
	f := newFixture(t)
	db := dumpService("pg_dumpall")
	db.Retention = &retention.Policy{KeepLast: 3, KeepDaily: 7}
	broken := dumpService("missing")
	broken.Name, broken.Retention = "broken", &retention.Policy{KeepLast: 1}
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
	if r := results[0]; r.Status != StatusOK || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "retention of db not applied") {
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

// A dump stored whole stays stored when a post hook fails: the snapshot is good, the
// failing hook is a warning.
func TestUpKeepsADumpWhosePostHookFails(t *testing.T) {
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
	if r.Summary.SnapshotID != "abcdef1234567890" {
		t.Errorf("snapshot %s, want the stored one", r.Summary.SnapshotID)
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if len(rep.done) != 1 {
		t.Errorf("reported done %d times, want once", len(rep.done))
	}
}

// Retention that finds the repository locked (a reader, another machine) never fails
// the backup: one warning names the holder, the next run applies it, and the services
// after it are not tried against the same holder.
func TestUpRetentionUnderALockIsAWarning(t *testing.T) {
	f := newFixture(t)
	plan := twoDumps(f)
	for i := range plan.Services {
		plan.Services[i].Retention = &retention.Policy{KeepLast: 3}
	}
	f.rst.Reply("forget", enginetest.Reply{Stderr: "unable to create lock in backend: repository is already locked by PID 46 on reader by root (UID 0, GID 0)\nlock was created at 2026-01-10 10:00:00 (1.5s ago)\n", Code: 11})
	results, _, rep := f.up(t, plan, Options{Parallel: 1})
	if got := f.rst.Find("forget"); len(got) != 1 {
		t.Errorf("forget ran %d times, want once: the holder stays for the next service too", len(got))
	}
	for _, r := range results {
		if r.Status != StatusOK || r.Err != nil || len(r.Warnings) != 1 {
			t.Fatalf("%s: %s %v %q, want ok with one warning", r.Service, r.Status, r.Err, r.Warnings)
		}
		w := r.Warnings[0]
		for _, part := range []string{"retention of " + r.Service + " not applied, the next run applies it", "held by PID 46 on host reader", "created 1s ago"} {
			if !strings.Contains(w, part) {
				t.Errorf("warning %q lacks %q", w, part)
			}
		}
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	var warned int
	for _, e := range rep.events {
		if strings.HasPrefix(e, "warn retention of ") {
			warned++
		}
	}
	if warned != 2 {
		t.Errorf("events %q, want one retention warning per service", rep.events)
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
	svc.Retention = &retention.Policy{KeepLast: 3}
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
