package backup

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// fixture is project shop on machine m1 of the fake engine: helpers run the fake
// restic (dump helpers the agent's own code, with the fake restic as its child),
// anchors read their input to the end, execs answer from execs.
type fixture struct {
	eng *enginetest.Engine
	rst *enginetest.Restic
	// execs maps a command's last word to what it prints and its exit code.
	execs map[string]fakeExec
}

type fakeExec struct {
	stdout, stderr string
	code           int
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{eng: enginetest.New(t), rst: enginetest.NewRestic(), execs: map[string]fakeExec{}}
	f.eng.Program = func(p *enginetest.Process) int {
		switch {
		case p.Config.Labels[helper.LabelKind] == helper.KindAnchor:
			return enginetest.Cat(p)
		case enginetest.IsAgentDump(p):
			return f.eng.Agent(f.rst, p)
		}
		return f.rst.Program(p)
	}
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		e, ok := f.execs[x.Cmd[len(x.Cmd)-1]]
		if !ok {
			fmt.Fprintf(x.Stderr, "no fake exec for %q", x.Cmd)
			return 127
		}
		_, _ = io.WriteString(x.Stdout, e.stdout)
		_, _ = io.WriteString(x.Stderr, e.stderr)
		return e.code
	}
	// restic backup answers with a snapshot.
	f.rst.Reply("backup", enginetest.Reply{Stdout: `{"message_type":"summary","files_new":1,"snapshot_id":"abcdef1234567890"}` + "\n"})
	return f
}

// begin begins a run of up on the local repository /srv/backups.
func (f *fixture) begin(t *testing.T) *run.Run { return f.beginWith(t, false) }

// beginWith begins a run of up, its opening overlapping the backups when overlap is set.
func (f *fixture) beginWith(t *testing.T, overlap bool) *run.Run {
	t.Helper()
	r, err := run.Begin(context.Background(), run.Options{
		Overlap: overlap,
		API:     f.eng, Identity: snapshot.Identity{Project: "shop", Machine: "m1"},
		Runner: &helper.Runner{API: f.eng, Image: "restic/restic:test", Project: "shop",
			Repo: helper.Repo{URL: "/srv/backups", Local: true, Password: []byte("hunter2")}},
		Command: "up", AnchorImage: "busybox", InitLocal: true, RepoDisplay: "/srv/backups",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.End(context.Background()) })
	return r
}

// up begins a run and backs up the plan's services.
func (f *fixture) up(t *testing.T, plan *composeext.Plan, opts Options) ([]report.Result, *run.Run, *recorder) {
	t.Helper()
	r := f.begin(t)
	rep := &recorder{}
	return Up(context.Background(), Env{Run: r, Plan: plan, Reporter: rep}, opts), r, rep
}

// recorder records what is reported; calls come from several goroutines.
type recorder struct {
	mu     sync.Mutex
	events []string
	done   []report.Result
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) Start(service string, _ composeext.Strategy) { r.add("start " + service) }
func (r *recorder) Progress(string, restic.Status)              {}
func (r *recorder) Warn(msg string)                             { r.add("warn " + msg) }
func (r *recorder) Done(res report.Result) {
	r.mu.Lock()
	r.done = append(r.done, res)
	r.mu.Unlock()
	r.add("done " + res.Service)
}

func testPlan(services ...composeext.ServicePlan) *composeext.Plan {
	return &composeext.Plan{Project: "shop", Repository: composeext.Repository{URL: "/srv/backups", Display: "/srv/backups", Local: true}, Services: services}
}

func dumpService(cmd string) composeext.ServicePlan {
	return composeext.ServicePlan{Name: "db", Strategy: composeext.StrategyDump, Tags: []string{"service=db"},
		Dump: &composeext.DumpSpec{Command: []string{"sh", "-c", cmd}, Filename: "db.sql"}}
}
