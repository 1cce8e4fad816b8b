package run

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// holder is the anchor of another run of shop: a restore by bob.
func holder(state container.ContainerState, age time.Duration) enginetest.Seed {
	return enginetest.Seed{
		Name: anchorName("shop"), Image: "busybox", State: state, Created: time.Now().Add(-age),
		Labels: map[string]string{helper.LabelProject: "shop", helper.LabelRun: "other1", helper.LabelKind: helper.KindAnchor,
			helper.LabelCommand: "restore", helper.LabelClient: "bob@server pid 9"},
	}
}

// shortWait outlasts a first attempt to take the anchor, not the poll that follows it:
// a run that waits that long waits once, then gives up.
const shortWait = 150 * time.Millisecond

func TestBeginTakesTheAnchor(t *testing.T) {
	f := newFixture(t)
	r, err := Begin(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	a, ok := f.eng.Container("docker-backup-run.shop")
	if !ok || !a.Running() {
		t.Fatalf("anchor %+v (found %v), want it running", a, ok)
	}
	want := map[string]string{helper.LabelProject: "shop", helper.LabelRun: r.ID, helper.LabelKind: helper.KindAnchor, helper.LabelCommand: "up", helper.LabelClient: "ann@laptop pid 7"}
	for k, v := range want {
		if a.Labels()[k] != v {
			t.Errorf("anchor label %s = %q, want %q", k, a.Labels()[k], v)
		}
	}
	if !a.Config.OpenStdin || a.HostConfig.NetworkMode != "none" || strings.Join(a.Config.Entrypoint, " ") != "/usr/local/bin/docker-backup agent hold" {
		t.Errorf("anchor config %+v, host config %+v: want the agent holding an open stdin, no network", a.Config, a.HostConfig)
	}
	if len(r.ID) != 10 || r.Runner.RunID != r.ID {
		t.Errorf("run ID %q, runner's %q", r.ID, r.Runner.RunID)
	}
	r.End(context.Background())
	if _, ok := f.eng.Container("docker-backup-run.shop"); ok {
		t.Error("the anchor is still there after End")
	}
	if c := f.eng.Created()[0]; c.ExitCode != 0 || len(c.Signals) != 0 {
		t.Errorf("the anchor exited %d after signals %v, want 0 at the end of its input", c.ExitCode, c.Signals)
	}
	r.End(context.Background()) // a second End does nothing
}

func TestBeginFailsWhenALiveRunHoldsTheProject(t *testing.T) {
	for _, tc := range []struct {
		name   string
		holder enginetest.Seed
		wait   time.Duration
		waits  bool
	}{
		{"running, no wait", holder(container.StateRunning, 2*time.Minute), 0, false},
		{"running, short wait", holder(container.StateRunning, 2*time.Minute), shortWait, true},
		{"restarting", holder(container.StateRestarting, time.Hour), 0, false},
		{"created moments ago", holder(container.StateCreated, time.Second), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.eng.AddContainer(tc.holder)
			o := f.options()
			o.Wait = tc.wait
			_, err := Begin(context.Background(), o)
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("err %v, want ErrBusy", err)
			}
			for _, part := range []string{"restore (run other1 by bob@server pid 9", "--wait"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
			if got := len(f.warned("waiting for another run of project shop: restore (run other1")); got != map[bool]int{true: 1, false: 0}[tc.waits] {
				t.Errorf("%d waiting messages, want one when it waited: %q", got, f.warnings)
			}
			c, ok := f.eng.Container(id)
			if !ok || c.State != tc.holder.State || len(c.Signals) != 0 {
				t.Errorf("the holder's anchor was touched: %+v (found %v)", c, ok)
			}
			if calls := f.rst.Calls(); len(calls) != 0 {
				t.Errorf("restic ran for a run that does not hold the project: %v", f.rst.Commands())
			}
		})
	}
}

func TestSecondBeginIsBusyUntilTheFirstEnds(t *testing.T) {
	f := newFixture(t)
	first := f.begin(f.options())
	o := f.options()
	o.Command, o.Client, o.Wait = "restore", "bob@server pid 9", shortWait
	_, err := Begin(context.Background(), o)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "up (run "+first.ID+" by ann@laptop pid 7, started ") {
		t.Fatalf("err %v, want ErrBusy naming the first run", err)
	}
	if len(f.warned("waiting for another run of project shop: up (run "+first.ID)) != 1 {
		t.Errorf("warnings %q, want one saying whom it waits for", f.warnings)
	}
	first.End(context.Background())
	second := f.begin(o)
	if a, _ := f.eng.Container(anchorName("shop")); a.Labels()[helper.LabelRun] != second.ID || a.Labels()[helper.LabelCommand] != "restore" {
		t.Errorf("anchor labels %v, want the second run's", a.Labels())
	}
}

func TestBeginWaitsForALiveRunAndTakesOverWhenItEnds(t *testing.T) {
	f := newFixture(t)
	id := f.eng.AddContainer(holder(container.StateRunning, time.Minute))
	// The holder's process ends while this run waits: its anchor's input closes.
	f.onWarn = func(msg string) {
		if strings.HasPrefix(msg, "waiting for another run") {
			f.eng.Exit(id, 0)
		}
	}
	o := f.options()
	o.Wait = -1
	r := f.begin(o)
	if _, ok := f.eng.Container(id); ok {
		t.Error("the ended run's anchor is still there")
	}
	a, ok := f.eng.Container(anchorName("shop"))
	if !ok || a.Labels()[helper.LabelRun] != r.ID || !a.Running() {
		t.Errorf("anchor %+v, want this run's, running", a)
	}
}

func TestBeginTakesOverADeadAnchor(t *testing.T) {
	for name, seed := range map[string]enginetest.Seed{
		"exited":           holder(container.StateExited, time.Hour),
		"dead":             holder(container.StateDead, time.Hour),
		"created long ago": holder(container.StateCreated, 2*startingGrace),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			id := f.eng.AddContainer(seed)
			r := f.begin(f.options())
			if _, ok := f.eng.Container(id); ok {
				t.Error("the dead anchor is still there")
			}
			if a, _ := f.eng.Container(anchorName("shop")); a.Labels()[helper.LabelRun] != r.ID {
				t.Errorf("anchor of run %q, want %q", a.Labels()[helper.LabelRun], r.ID)
			}
			if got := f.eng.CallsWith("remove " + id); len(got) != 1 {
				t.Errorf("the dead anchor was removed by %v, want once by its ID", got)
			}
			// Its run's restic commands ran in it (its host): their locks are cleared
			// as that run's, by an unlock under its hostname.
			unlocks := f.rst.Find("unlock")
			if len(unlocks) != 1 || unlocks[0].Helper.Config.Hostname != "docker-backup-"+seed.Labels[helper.LabelRun] {
				t.Errorf("unlocks %v, want one as the dead anchor's run", unlocks)
			}
		})
	}
}

func TestAlive(t *testing.T) {
	for _, tc := range []struct {
		status string
		age    time.Duration
		want   bool
	}{
		{"running", time.Hour, true},
		{"restarting", time.Hour, true},
		{"created", time.Second, true},
		{"created", startingGrace + time.Second, false},
		{"exited", time.Second, false},
		{"dead", time.Second, false},
		{"paused", time.Second, false},
	} {
		st := engine.ContainerState{Status: tc.status, Created: time.Now().Add(-tc.age)}
		if got := alive(st); got != tc.want {
			t.Errorf("alive(%s, %s old) = %v, want %v", tc.status, tc.age, got, tc.want)
		}
	}
}

func TestDescribeHolder(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		age    time.Duration
		want   string
	}{
		{map[string]string{helper.LabelCommand: "up", helper.LabelRun: "abc", helper.LabelClient: "ann@laptop pid 7"}, 90 * time.Second, "up (run abc by ann@laptop pid 7, started 1m30s ago)"},
		{map[string]string{helper.LabelRun: "abc"}, -1, "a run (run abc)"},
	} {
		st := engine.ContainerState{Labels: tc.labels}
		if tc.age >= 0 {
			st.Created = time.Now().Add(-tc.age)
		}
		if got := describeHolder(st); got != tc.want {
			t.Errorf("describeHolder(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}
