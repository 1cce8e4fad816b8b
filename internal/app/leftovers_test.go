package app

import (
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// forget with no retention policy is still a configuration error (exit code 2), but
// first finishes what a dead run left; with nothing left it begins no run at all.
func TestForgetWithoutPolicyRecovers(t *testing.T) {
	t.Run("nothing left: no run", func(t *testing.T) {
		f, _ := metricsFixture(t)
		err := f.run("forget")
		if exitCode(context.Background(), err) != ExitUsage || !strings.Contains(err.Error(), "no retention policy") {
			t.Fatalf("forget: %v, want the usage error", err)
		}
		if got := f.eng.CallsWith("create"); len(got) > 0 {
			t.Errorf("forget without a policy and nothing to recover created %v", got)
		}
	})
	t.Run("a service left stopped is started again", func(t *testing.T) {
		f, _ := metricsFixture(t)
		leftBehind(f)
		err := f.run("forget")
		if exitCode(context.Background(), err) != ExitUsage || !strings.Contains(err.Error(), "no retention policy") {
			t.Fatalf("forget: %v, want the usage error", err)
		}
		if c, _ := f.eng.Container("c1"); !c.Running() {
			t.Errorf("app's container was not started again; stderr:\n%s", f.err.String())
		}
		if _, ok := f.eng.Volume("docker-backup-stopped-dead000001-c1"); ok {
			t.Error("the stop record stayed")
		}
		if !strings.Contains(f.err.String(), "started container c1 again: interrupted run dead000001 had stopped it") {
			t.Errorf("stderr does not say what it did:\n%s", f.err.String())
		}
	})
}

// The commands that change nothing name what a dead run left in one line, and leave it.
func TestReadOnlyCommandsNameLeftovers(t *testing.T) {
	const want = "warning: a dead run (run dead000001) of project shop left service app stopped: " +
		"the next docker backup up, restore, verify or forget of the project starts app again\n"
	for _, args := range [][]string{{"snapshots"}, {"status"}, {"check"}} {
		t.Run(args[0], func(t *testing.T) {
			f, _ := metricsFixture(t)
			newAnchorRestic(f)
			f.rst.Reply("snapshots", enginetest.Reply{Stdout: "[]\n"})
			leftBehind(f)
			if err := f.run(args...); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, f.err.String())
			}
			if got := strings.Count(f.err.String(), want); got != 1 {
				t.Errorf("stderr has the line %d times, want once:\n%s", got, f.err.String())
			}
			if c, _ := f.eng.Container("c1"); c.Running() {
				t.Error("a read-only command started the container")
			}
			if _, ok := f.eng.Volume("docker-backup-stopped-dead000001-c1"); !ok {
				t.Error("a read-only command removed the stop record")
			}
		})
	}
}
