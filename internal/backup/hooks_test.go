package backup

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/report"
)

func TestUpRunsHooksAroundTheBackup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failing   string // the hook or command that exits 1
		status    Status
		err, warn string
		backup    bool
		calls     []string
		hooks     []string
	}{
		{name: "all succeed", status: StatusOK, backup: true,
			calls: []string{"exec c1 freeze", "exec c1 flush", "stop c1", "start c1", "exec c1 thaw", "exec c1 celebrate"},
			hooks: []string{"pre 1:0", "pre 2:0", "post 1:0", "on_success 1:0"}},
		{name: "a pre hook fails", failing: "flush", status: StatusFailed, err: "pre hook 2 exited with code 1: cannot flush",
			calls: []string{"exec c1 freeze", "exec c1 flush", "exec c1 thaw", "exec c1 alert"},
			hooks: []string{"pre 1:0", "pre 2:1", "post 1:0", "on_failure 1:0"}},
		{name: "a post hook fails", failing: "thaw", status: StatusWarning, warn: "post hook 1 exited with code 1: cannot thaw", backup: true,
			calls: []string{"exec c1 freeze", "exec c1 flush", "stop c1", "start c1", "exec c1 thaw", "exec c1 celebrate"},
			hooks: []string{"pre 1:0", "pre 2:0", "post 1:1", "on_success 1:0"}},
		{name: "an outcome hook fails", failing: "celebrate", status: StatusWarning, warn: "on_success hook 1 exited with code 1", backup: true,
			calls: []string{"exec c1 freeze", "exec c1 flush", "stop c1", "start c1", "exec c1 thaw", "exec c1 celebrate"},
			hooks: []string{"pre 1:0", "pre 2:0", "post 1:0", "on_success 1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", true))
			for _, h := range []string{"freeze", "flush", "thaw", "celebrate", "alert"} {
				f.execs[h] = fakeExec{}
			}
			if tc.failing != "" {
				f.execs[tc.failing] = fakeExec{stderr: "cannot " + tc.failing + "\n", code: 1}
			}
			svc := composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes, Stop: true,
				Pre: [][]string{{"freeze"}, {"flush"}}, Post: [][]string{{"thaw"}},
				OnSuccess: [][]string{{"celebrate"}}, OnFailure: [][]string{{"alert"}},
				Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_data", Target: "/data", Path: "/backup/files/data"}}}
			results, _, _ := f.up(t, testPlan(svc), Options{})
			r := results[0]
			if r.Status != tc.status || tc.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.err)) {
				t.Fatalf("result %s %v, want %s %q", r.Status, r.Err, tc.status, tc.err)
			}
			if tc.warn != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tc.warn) }) {
				t.Errorf("warnings %q, want one with %q", r.Warnings, tc.warn)
			}
			if got := len(f.rst.Find("backup")) == 1; got != tc.backup {
				t.Errorf("backed up %v, want %v", got, tc.backup)
			}
			if got := execOrder(f); !slices.Equal(got, tc.calls) {
				t.Errorf("calls %q, want %q: hooks before the stop, post hooks once started again", got, tc.calls)
			}
			if got := hookNames(r); !slices.Equal(got, tc.hooks) {
				t.Errorf("hook results %q, want %q", got, tc.hooks)
			}
		})
	}
}

// A dump that fails still runs post (undoing what pre did) and on_failure; the failure
// is the dump's.
func TestUpRunsPostHooksAfterAFailedDump(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pause"], f.execs["resume"], f.execs["alert"] = fakeExec{}, fakeExec{}, fakeExec{}
	f.execs["pg_dumpall"] = fakeExec{stderr: "connection refused\n", code: 2}
	svc := dumpService("pg_dumpall")
	svc.Pre, svc.Post, svc.OnFailure = [][]string{{"pause"}}, [][]string{{"resume"}}, [][]string{{"alert"}}
	results, _, _ := f.up(t, testPlan(svc), Options{})
	r := results[0]
	if r.Status != StatusFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "exited with code 2: connection refused") {
		t.Fatalf("result %s %v, want the dump's failure", r.Status, r.Err)
	}
	want := []string{"exec c1 pause", "exec c1 sh -c pg_dumpall", "exec c1 resume", "exec c1 alert"}
	if got := execOrder(f); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// A service's timeout ends its dump in the container and fails the service with a
// line that says so; post hooks still run.
func TestUpEndsADumpAtItsTimeout(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["resume"] = fakeExec{}
	killed := make(chan struct{})
	base := f.eng.Exec
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		if x.Cmd[len(x.Cmd)-1] != "slow-dump" {
			return base(x)
		}
		_, _ = x.Stdout.Write([]byte("partial"))
		<-x.Killed
		close(killed)
		return 143
	}
	svc := dumpService("slow-dump")
	svc.Post = [][]string{{"resume"}}
	svc.Timeout = composeext.Duration(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := f.begin(t)
	results := Up(ctx, Env{Run: r, Plan: testPlan(svc), Reporter: &recorder{}}, Options{})
	select {
	case <-killed:
	default:
		t.Errorf("the dump was not ended in its container; calls %q", f.eng.Calls())
	}
	res := results[0]
	if res.Status != StatusFailed || res.Err == nil || !strings.Contains(res.Err.Error(), `the backup of "db" did not end within its timeout (200ms)`) {
		t.Fatalf("result %s %v, want failed by the timeout", res.Status, res.Err)
	}
	if !slices.Contains(execOrder(f), "exec c1 resume") {
		t.Errorf("calls %q, want the post hook run after the timeout", f.eng.Calls())
	}
}

// execOrder lists the execs, stops and starts of container c1.
func execOrder(f *fixture) []string {
	var order []string
	for _, c := range f.eng.Calls() {
		if strings.HasPrefix(c, "exec ") || strings.HasSuffix(c, " c1") {
			order = append(order, c)
		}
	}
	return order
}

// hookNames lists a result's hooks as "name:exit code".
func hookNames(r report.Result) []string {
	var out []string
	for _, h := range r.Hooks {
		out = append(out, h.Hook+":"+strconv.Itoa(h.ExitCode))
	}
	return out
}
