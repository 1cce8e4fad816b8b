package backup

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

func filesService(name string, stop bool) composeext.ServicePlan {
	return composeext.ServicePlan{Name: name, Strategy: composeext.StrategyVolumes, Stop: stop, Tags: []string{"service=" + name},
		Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_" + name, Target: "/data", Path: "/backup/" + name + "/data"}}}
}

// With the opening overlapping the backups, a service that stops waits for it: it is
// never stopped before the password is known good. One that stops nothing does not.
func TestOverlapStopsOnlyAfterTheOpening(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "slow", true))
	release := make(chan struct{})
	var backedUpEarly atomic.Bool
	f.rst.On("snapshots", func(enginetest.Call) enginetest.Reply { <-release; return enginetest.Reply{Stdout: "[]"} })
	f.rst.On("backup", func(c enginetest.Call) enginetest.Reply {
		if strings.Contains(c.String(), "service=fast") {
			backedUpEarly.Store(true)
			close(release) // the opening ends only once the fast service was backed up
		}
		return enginetest.Reply{Stdout: `{"message_type":"summary","snapshot_id":"1234"}`}
	})
	r := f.beginWith(t, true)
	rep := &recorder{}
	results := Up(context.Background(), Env{Run: r, Plan: testPlan(filesService("fast", false), filesService("slow", true)), Reporter: rep}, Options{Parallel: 2})
	for _, res := range results {
		if res.Status != StatusOK {
			t.Fatalf("%s: %s %v", res.Service, res.Status, res.Err)
		}
	}
	if !backedUpEarly.Load() {
		t.Fatal("the service that stops nothing waited for the opening")
	}
	cmds := f.rst.Commands()
	if i := slices.IndexFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "snapshots") }); i < 0 {
		t.Fatalf("no opening: %q", cmds)
	}
	for _, c := range f.eng.Calls() {
		if c == "stop c1" {
			return
		}
	}
	t.Errorf("the stopped service was not stopped: %v", f.eng.Calls())
}

// A wrong password found by the overlapped opening: nothing of the services is shown
// (the command ends with the opening's one line), and no service is stopped.
func TestOverlapWrongPasswordShowsNothing(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "slow", true))
	wrong := enginetest.Reply{Stderr: "Fatal: wrong password or no key found\n", Code: 12}
	f.rst.Reply("snapshots", wrong)
	f.rst.Reply("backup", wrong)
	r := f.beginWith(t, true)
	rep := &recorder{}
	Up(context.Background(), Env{Run: r, Plan: testPlan(filesService("fast", false), filesService("slow", true)), Reporter: rep}, Options{Parallel: 2})
	if err := r.Opened(context.Background()); err == nil {
		t.Fatal("Opened: nil, want the wrong password")
	}
	if len(rep.events) != 0 {
		t.Errorf("reported %q, want nothing", rep.events)
	}
	if slices.Contains(f.eng.Calls(), "stop c1") {
		t.Error("a service was stopped before the password was known good")
	}
}

// A default local repository that did not exist: the opening creates it, and a backup
// that ran beside it (and found none) runs again.
func TestOverlapRetriesOnceTheRepositoryIsCreated(t *testing.T) {
	f := newFixture(t)
	var created atomic.Bool
	missing := enginetest.Reply{Stderr: "Fatal: repository does not exist: unable to open config file\n", Code: 10}
	initDone := make(chan struct{})
	f.rst.Reply("snapshots", missing)
	f.rst.On("init", func(enginetest.Call) enginetest.Reply {
		created.Store(true)
		close(initDone)
		return enginetest.Reply{}
	})
	f.rst.On("backup", func(enginetest.Call) enginetest.Reply {
		if !created.Load() {
			return missing
		}
		return enginetest.Reply{Stdout: `{"message_type":"summary","snapshot_id":"1234"}`}
	})
	r := f.beginWith(t, true)
	rep := &recorder{}
	results := Up(context.Background(), Env{Run: r, Plan: testPlan(filesService("fast", false)), Reporter: rep}, Options{Parallel: 1})
	if results[0].Status != StatusOK {
		t.Fatalf("status %s: %v (restic ran %q)", results[0].Status, results[0].Err, f.rst.Commands())
	}
	if !slices.Equal(rep.events, []string{"start fast", "done fast"}) {
		t.Errorf("reported %q", rep.events)
	}
}
