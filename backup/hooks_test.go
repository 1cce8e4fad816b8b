package backup

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine/enginetest"
)

func TestUpRunsHooksAroundTheBackup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failing string // the hook that exits 1
		status  Status
		err     string
		backup  bool
	}{
		{name: "all succeed", status: StatusOK, backup: true},
		{name: "a pre hook fails", failing: "flush", status: StatusFailed, err: "pre hook 2 exited with code 1: cannot flush"},
		{name: "a post hook fails", failing: "thaw", status: StatusFailed, err: "post hook 1 exited with code 1: cannot thaw", backup: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", true))
			for _, h := range []string{"freeze", "flush", "thaw"} {
				f.execs[h] = fakeExec{}
			}
			if tc.failing != "" {
				f.execs[tc.failing] = fakeExec{stderr: "cannot " + tc.failing + "\n", code: 1}
			}
			svc := composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes, Stop: true,
				Pre: [][]string{{"freeze"}, {"flush"}}, Post: [][]string{{"thaw"}},
				Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_data", Target: "/data", Path: "/backup/files/data"}}}
			results, _, _ := f.up(t, testPlan(svc), Options{})
			r := results[0]
			if r.Status != tc.status || tc.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.err)) {
				t.Fatalf("result %s %v, want %s %q", r.Status, r.Err, tc.status, tc.err)
			}
			if got := len(f.rst.Find("backup")) == 1; got != tc.backup {
				t.Errorf("backed up %v, want %v", got, tc.backup)
			}
			var order []string
			for _, c := range f.eng.Calls() {
				if strings.HasPrefix(c, "exec ") || strings.HasSuffix(c, " c1") {
					order = append(order, c)
				}
			}
			want := map[string][]string{
				"all succeed":       {"exec c1 freeze", "exec c1 flush", "stop c1", "start c1", "exec c1 thaw"},
				"a pre hook fails":  {"exec c1 freeze", "exec c1 flush"},
				"a post hook fails": {"exec c1 freeze", "exec c1 flush", "stop c1", "start c1", "exec c1 thaw"},
			}[tc.name]
			if !slices.Equal(order, want) {
				t.Errorf("calls %q, want %q: hooks before the stop, post hooks once started again", order, want)
			}
		})
	}
}
