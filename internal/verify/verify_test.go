package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
)

var identity = snapshot.Identity{Project: "p", Machine: "m1"}

const snapDB = `[{"id":"bbbb1111","short_id":"bbbb1111","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/db.sql"],"tags":["project=p","service=db","strategy=dump"]}]`

// fixture is project p with a running dump service db (container c1) on the fake
// engine: helpers run the fake restic, execs run check (the drill's commands), and
// every exec's container and argv is kept.
type fixture struct {
	eng   *enginetest.Engine
	rst   *enginetest.Restic
	check func(x *enginetest.ExecProcess) int
	env   Env
	mu    sync.Mutex
	steps []string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{eng: enginetest.New(t), rst: enginetest.NewRestic()}
	live := enginetest.ServiceContainer("c1", "p", "db", true)
	live.Config = &container.Config{Image: "postgres:16", Cmd: []string{"postgres"}, Env: []string{"POSTGRES_PASSWORD=live-secret"}}
	live.HostConfig = &container.HostConfig{}
	f.eng.AddContainer(live)
	f.eng.Program = func(p *enginetest.Process) int {
		switch {
		case p.Config.Labels[helper.LabelKind] == helper.KindAnchor:
			return enginetest.Cat(p)
		case enginetest.IsAgentDump(p):
			return f.eng.Agent(f.rst, p)
		case p.Config.Labels[helper.LabelKind] == Kind:
			// The throwaway copy's server, until it is stopped or removed.
			for {
				if c, ok := f.eng.Container(p.ID); !ok || !c.Running() || c.Removed {
					return 0
				}
				time.Sleep(time.Millisecond)
			}
		}
		return f.rst.Program(p)
	}
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		if x.Cmd[0] == "restore" {
			_, _ = io.Copy(io.Discard, x.Stdin)
			return 0
		}
		return f.check(x)
	}
	f.check = func(x *enginetest.ExecProcess) int {
		fmt.Fprintln(x.Stdout, "databases "+strings.Join(x.Cmd[4:], ", "))
		return 0
	}
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: snapDB})
	f.rst.Reply("dump", enginetest.Reply{Stdout: "CREATE DATABASE appdb;\n\\connect appdb\nCREATE TABLE t (x int);\n"})

	runner := &helper.Runner{API: f.eng, Image: "restic-image", Project: "p",
		Repo: helper.Repo{URL: "/repo", Local: true, Password: []byte("hunter2")}}
	r, err := run.Begin(context.Background(), run.Options{API: f.eng, Identity: identity,
		Runner: runner, Command: "verify", AnchorImage: "restic-image", RepoDisplay: "/repo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.End(context.Background()) })
	f.env = Env{API: f.eng, Runner: r.Runner, Identity: identity, Plan: plan(), Reporter: f, Run: r}
	return f
}

func (f *fixture) Step(_, m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, m)
}
func (f *fixture) Done(report.Result) {}

// plan is project p: db, a postgres-like dump service with a drill, and web (none).
func plan() *composeext.Plan {
	return &composeext.Plan{
		Project: "p", Image: "restic-image",
		Repository: composeext.Repository{URL: "/repo", Display: "/repo", Local: true},
		Services: []composeext.ServicePlan{
			{Name: "db", Strategy: composeext.StrategyDump, Tags: []string{"project=p", "service=db", "strategy=dump"},
				Dump: &composeext.DumpSpec{Command: []string{"dump"}, Restore: []string{"restore"}, Filename: "db.sql",
					Drill: &composeext.DrillSpec{Check: []string{"sh", "-c", "check", "arg0"}, PasswordEnv: []string{"POSTGRES_PASSWORD"}}}},
			{Name: "web", Strategy: composeext.StrategyNone},
		},
	}
}

func (f *fixture) drill(t *testing.T, opts Options) []report.Result {
	t.Helper()
	jobs, err := Prepare(context.Background(), f.env, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), f.env, jobs, opts)
}

// The dump goes into a copy of the service, the check runs there with the dump's
// database names; the live container is only inspected, and the copy is removed.
func TestDrillDumpLoadsACopyAndChecksIt(t *testing.T) {
	f := newFixture(t)
	res := f.drill(t, Options{})
	if len(res) != 2 || res[0].Status != StatusOK || res[0].Detail != "databases appdb" || res[1].Status != StatusSkipped {
		t.Fatalf("results %+v", res)
	}
	for _, c := range f.eng.CallsWith("exec ", "stop ", "start ", "kill ") {
		// The live container's ID is c1; the throwaway copy's is random hex, which may
		// begin with c1 too.
		if slices.Contains(strings.Fields(c)[1:], "c1") {
			t.Errorf("the live container was touched: %s", c)
		}
	}
	if left := f.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestDrillDumpCopyHasAThrowawayPassword(t *testing.T) {
	f := newFixture(t)
	var env []string
	f.check = func(x *enginetest.ExecProcess) int {
		c, _ := f.eng.Container(x.ContainerID)
		env = c.Config.Env
		return 0
	}
	f.drill(t, Options{})
	if len(env) == 0 || slices.Contains(env, "POSTGRES_PASSWORD=live-secret") {
		t.Errorf("the copy's env %v", env)
	}
}

// A failing check fails the service with its stderr, and the copy still goes.
func TestDrillDumpFailingCheck(t *testing.T) {
	f := newFixture(t)
	f.check = func(x *enginetest.ExecProcess) int {
		fmt.Fprintln(x.Stderr, "preset postgres: database appdb holds no table")
		return 1
	}
	res := f.drill(t, Options{})
	if res[0].Status != StatusFailed || !strings.Contains(fmt.Sprint(res[0].Err), "database appdb holds no table") || !Failed(res) {
		t.Fatalf("result %+v", res[0])
	}
	if left := f.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// x-backup.verify decides instead of the preset's check.
func TestDrillDumpOwnCheck(t *testing.T) {
	f := newFixture(t)
	f.env.Plan.Services[0].Verify = []string{"my-check"}
	var ran []string
	f.check = func(x *enginetest.ExecProcess) int { ran = x.Cmd; return 0 }
	res := f.drill(t, Options{})
	if res[0].Status != StatusOK || !slices.Equal(ran, []string{"my-check"}) {
		t.Fatalf("ran %v, result %+v", ran, res[0])
	}
}

// --keep leaves the copy, says how to remove it, and marks it so recovery leaves it.
func TestDrillKeep(t *testing.T) {
	f := newFixture(t)
	res := f.drill(t, Options{Keep: true})
	if len(res[0].Kept) != 1 || !strings.HasPrefix(res[0].Kept[0], "docker rm -f p-backup-verify-db-") {
		t.Fatalf("kept %v", res[0].Kept)
	}
	left := f.eng.Containers()
	i := slices.IndexFunc(left, func(c enginetest.Container) bool { return c.Config.Labels[helper.LabelKind] == Kind })
	if i < 0 || left[i].Config.Labels[helper.LabelKept] != "true" || left[i].Config.Labels[helper.LabelTemporary] != "" {
		t.Fatalf("want the copy kept and marked so, got %+v", left)
	}
}

// A drill that passes its timeout fails and is ended in its copy, which goes too.
func TestDrillTimeout(t *testing.T) {
	f := newFixture(t)
	var killed atomic.Bool
	f.check = func(x *enginetest.ExecProcess) int {
		<-x.Killed
		killed.Store(true)
		return 137
	}
	res := f.drill(t, Options{Timeout: 200 * time.Millisecond})
	if res[0].Status != StatusFailed || !strings.Contains(fmt.Sprint(res[0].Err), "did not end within its timeout of 200ms") {
		t.Fatalf("result %+v", res[0])
	}
	if !killed.Load() {
		t.Error("the check was not ended in the copy")
	}
	if left := f.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// With --parallel 2, two drills run at once: each check waits for the other to start.
func TestDrillParallel(t *testing.T) {
	f := newFixture(t)
	db2 := f.env.Plan.Services[0]
	db2.Name, db2.Tags = "db2", []string{"project=p", "service=db2", "strategy=dump"}
	f.env.Plan.Services = append(f.env.Plan.Services, db2)
	live := enginetest.ServiceContainer("c2", "p", "db2", true)
	live.Config, live.HostConfig = &container.Config{Image: "postgres:16"}, &container.HostConfig{}
	f.eng.AddContainer(live)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: strings.Replace(snapDB, "}]", "},"+
		`{"id":"cccc2222","short_id":"cccc2222","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/db2.sql"],"tags":["project=p","service=db2","strategy=dump"]}]`, 1)})
	started := make(chan struct{}, 2)
	f.check = func(x *enginetest.ExecProcess) int {
		started <- struct{}{}
		for len(started) < 2 {
			select {
			case <-x.Killed:
				return 137
			case <-time.After(time.Millisecond):
			}
		}
		return 0
	}
	res := f.drill(t, Options{Parallel: 2, Timeout: 5 * time.Second})
	for _, r := range res {
		if r.Status == StatusFailed {
			t.Errorf("%s: %v (did the drills run one at a time?)", r.Service, r.Err)
		}
	}
}

// Naming a service that cannot be drilled is bad input; a missing snapshot a failure.
func TestPrepare(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		names    []string
		snapshot string
	}{{[]string{"web"}, ""}, {[]string{"nope"}, ""}, {nil, "bbbb1111"}, {[]string{"db"}, "yesterday"}} {
		if _, err := Prepare(context.Background(), f.env, tc.names, Options{Snapshot: tc.snapshot}); !errors.Is(err, ErrInput) {
			t.Errorf("%v --snapshot %q: err %v, want ErrInput", tc.names, tc.snapshot, err)
		}
	}
	if jobs, err := Prepare(context.Background(), f.env, []string{"db"}, Options{Snapshot: "bbbb"}); err != nil || jobs[0].Snapshot.ID != "bbbb1111" {
		t.Errorf("db --snapshot bbbb: %+v, %v", jobs, err)
	}
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: "[]"})
	jobs, err := Prepare(context.Background(), f.env, []string{"db"}, Options{})
	if err != nil || len(jobs) != 1 || jobs[0].Known == nil || jobs[0].Known.Status != StatusFailed {
		t.Fatalf("jobs %+v, err %v", jobs, err)
	}
}

func TestLines(t *testing.T) {
	got := Lines("the restore command exited with code 3: ERROR: a | ERROR: b\n")
	if want := []string{"the restore command exited with code 3: ERROR: a", "ERROR: b"}; !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
}

// leftovers are the drill's containers and volumes that exist.
func (f *fixture) leftovers() []string {
	var out []string
	for _, c := range f.eng.Containers() {
		if c.Config.Labels[helper.LabelKind] == Kind {
			out = append(out, "container "+c.Name)
		}
	}
	for _, v := range f.eng.VolumeNames() {
		if strings.Contains(v, "verify") {
			out = append(out, "volume "+v)
		}
	}
	return out
}

// A check's detail is its last line as printed: psql's " 3 | x" stays whole.
func TestLastLine(t *testing.T) {
	if got := lastLine("count | name\n 3 | x\r\n\n"); got != "3 | x" {
		t.Errorf("got %q", got)
	}
}

// On a swarm stack a dump, or a service with x-backup.verify, is not drilled yet: one
// line, skipped among all the services, bad input when named.
func TestPrepareOnStack(t *testing.T) {
	f := newFixture(t)
	f.env.Stack = true
	jobs, err := Prepare(context.Background(), f.env, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Known == nil || j.Known.Service != "db" {
			continue
		}
		if j.Known.Status != StatusSkipped || j.Known.Detail != "dumps are not drilled on a swarm stack yet" {
			t.Errorf("db on a stack: %+v", j.Known)
		}
	}
	if _, err := Prepare(context.Background(), f.env, []string{"db"}, Options{}); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "not drilled on a swarm stack") {
		t.Errorf("db named on a stack: %v", err)
	}
	if why := cannotDrill(composeext.ServicePlan{Strategy: composeext.StrategyVolumes, Verify: []string{"check"}}, true); why != "x-backup.verify does not run on a swarm stack yet" {
		t.Errorf("volumes with x-backup.verify on a stack: %q", why)
	}
}
