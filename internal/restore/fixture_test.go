package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// fixture is project p on machine m1 of the fake engine. Helpers run the fake restic,
// except restore's shell helpers (swap, check), which print "helper says no" on stderr
// and exit with helperExit[kind]; anchors read their input to the end; the restore
// command (an exec) reads its input into execStdin, prints execErr and exits execExit.
type fixture struct {
	eng *enginetest.Engine
	rst *enginetest.Restic

	mu         sync.Mutex
	helperExit map[string]int
	// helperOut is what a shell helper of a kind prints on stdout; helpers the last
	// helper of each kind that ran.
	helperOut map[string]string
	helpers   map[string]enginetest.Container
	// helperN counts the helpers of each kind; helperExit["kind#N"] is the Nth one's.
	helperN map[string]int
	// helperArgs are "kind args…" of every restore helper, in order; helperExit may
	// also be keyed so, for one call of a kind.
	helperArgs []string
	execStdin  strings.Builder
	execExit   int
	execErr    string
}

var identity = snapshot.Identity{Project: "p", Machine: "m1"}

func newFixture(t *testing.T) *fixture {
	f := &fixture{eng: enginetest.New(t), rst: enginetest.NewRestic(), helperExit: map[string]int{},
		helperOut: map[string]string{}, helpers: map[string]enginetest.Container{}, helperN: map[string]int{}}
	f.eng.Program = func(p *enginetest.Process) int {
		kind := p.Config.Labels[helper.LabelKind]
		switch {
		case kind == helper.KindAnchor:
			return enginetest.Cat(p)
		case strings.HasPrefix(kind, "restore-"):
			f.eng.Record("helper " + kind)
			fmt.Fprint(p.Stderr, "helper says no\n")
			f.mu.Lock()
			defer f.mu.Unlock()
			f.helpers[kind] = p.Container
			f.helperArgs = append(f.helperArgs, kind+" "+strings.Join(p.Config.Cmd, " "))
			f.helperN[kind]++
			code, ok := f.helperExit[fmt.Sprintf("%s#%d", kind, f.helperN[kind])]
			if !ok {
				code = f.helperExit[kind]
			}
			out := f.helperOut[kind]
			if kind == "restore-swap" && out == "" {
				out = swapReport(p, code)
			}
			fmt.Fprint(p.Stdout, out)
			return code
		}
		// restic: its command in the calls, as restore sees it.
		f.eng.Record("restic " + p.Config.Cmd[0])
		if enginetest.IsAgentDump(p) {
			return f.eng.Agent(f.rst, p)
		}
		return f.rst.Program(p)
	}
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		b, _ := io.ReadAll(x.Stdin)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.execStdin.Write(b)
		fmt.Fprint(x.Stderr, f.execErr)
		return f.execExit
	}
	return f
}

// swapReport is what agent swap prints for an exit code: every mount new (0) or old
// (the codes that say so), or nothing (a killed helper).
func swapReport(p *enginetest.Process, code int) string {
	var spec agent.SwapSpec
	if json.Unmarshal([]byte(p.Files[agent.SpecFile]), &spec) != nil {
		return ""
	}
	state := ""
	switch code {
	case 0:
		state = agent.MountNew
	case agent.SwapUnchanged, agent.SwapPutBack, agent.SwapNotStaged, agent.SwapNotBegun:
		state = agent.MountOld
	default:
		return ""
	}
	var rep agent.SwapReport
	for range spec.Mounts {
		rep.Mounts = append(rep.Mounts, state)
	}
	b, _ := json.Marshal(rep)
	return string(b) + "\n"
}

// runner is restic in helpers outside a run, as for Prepare.
func (f *fixture) runner() *helper.Runner {
	return &helper.Runner{API: f.eng, Image: "restic-image", Project: "p",
		Repo: helper.Repo{URL: "/repo", Local: true, Password: []byte("hunter2")}}
}

// env begins a run of restore and returns what restores within it.
func (f *fixture) env(t *testing.T) Env {
	t.Helper()
	r, err := run.Begin(context.Background(), run.Options{
		API: f.eng, Identity: identity,
		Runner: f.runner(), Command: "restore", AnchorImage: "restic-image", RepoDisplay: "/repo",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.End(context.Background()) })
	return Env{API: f.eng, Runner: r.Runner, Identity: identity, Plan: filesPlan(), Reporter: &nopReporter{}, Run: r}
}

// calls are the engine's calls that say what restore did: restic commands, helpers,
// volumes, and the stops and starts of c1.
func (f *fixture) calls() []string {
	var out []string
	for _, c := range f.eng.Calls() {
		switch {
		case strings.HasPrefix(c, "restic "), strings.HasPrefix(c, "helper "), strings.HasPrefix(c, "volume-"), strings.HasSuffix(c, " c1"):
			out = append(out, c)
		}
	}
	return out
}

// nopReporter keeps the steps and discards the rest.
type nopReporter struct {
	mu    sync.Mutex
	steps []string
}

func (n *nopReporter) Start(Job) {}
func (n *nopReporter) Step(_ string, m string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.steps = append(n.steps, m)
}
func (n *nopReporter) Progress(string, restic.RestoreStatus) {}
func (n *nopReporter) Done(report.Result)                    {}

// filesPlan is a project p with a volumes service files and a dump service db.
func filesPlan() *composeext.Plan {
	return &composeext.Plan{
		Project: "p", Image: "restic-image",
		Repository: composeext.Repository{URL: "/repo", Display: "/repo", Local: true},
		Services: []composeext.ServicePlan{
			{Name: "files", Strategy: composeext.StrategyVolumes, Tags: []string{"project=p", "service=files", "strategy=volumes"},
				Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "p_data", Target: "/data", Path: "/backup/files/data"}}},
			{Name: "db", Strategy: composeext.StrategyDump, Tags: []string{"project=p", "service=db", "strategy=dump"},
				Dump: &composeext.DumpSpec{Command: []string{"dump"}, Restore: []string{"sh", "-c", "psql"}, Filename: "db.sql"}},
		},
	}
}

// fixed is the time restore names its volumes by.
var fixed = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
