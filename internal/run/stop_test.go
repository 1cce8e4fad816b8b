package run

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// dbContainers seeds shop's db service: c1 running, c2 stopped.
func dbContainers(t *testing.T, f *fixture) []engine.Container {
	t.Helper()
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	c2 := enginetest.ServiceContainer("c2", "shop", "db", false)
	c2.Name = "shop-db-2"
	f.eng.AddContainer(c2)
	cs, err := engine.ServiceContainers(context.Background(), f.eng, "shop", "db")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestStopRecordsBeforeStoppingAndRestartRemovesTheRecord(t *testing.T) {
	f := newFixture(t)
	cs := dbContainers(t, f)
	r := f.begin(f.options())
	rec := "docker-backup-stopped-" + r.ID + "-c1"
	mark := len(f.eng.Calls())

	s, err := r.Stop(context.Background(), "db", cs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.eng.Calls()[mark:], []string{"volume-create " + rec, "stop c1"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want the record created before the stop, and only the running container stopped", got)
	}
	v, ok := f.eng.Volume(rec)
	want := map[string]string{helper.LabelProject: "shop", helper.LabelRun: r.ID, helper.LabelService: "db", helper.LabelStopped: "c1"}
	if !ok || !maps.Equal(v.Labels, want) {
		t.Errorf("record %+v (found %v), want labels %v", v, ok, want)
	}
	if c, _ := f.eng.Container("c1"); c.Running() || s.Count() != 1 {
		t.Errorf("c1 running %v, %d stopped", c.Running(), s.Count())
	}

	mark = len(f.eng.Calls())
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := f.eng.Calls()[mark:], []string{"start c1", "volume-remove " + rec}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if c, _ := f.eng.Container("c2"); c.Running() {
		t.Error("a container that was not running was started")
	}
	mark = len(f.eng.Calls())
	if err := s.Restart(context.Background()); err != nil || len(f.eng.Calls()) != mark {
		t.Errorf("a second Restart did %q (%v), want nothing", f.eng.Calls()[mark:], err)
	}
}

func TestStopFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    string
		err     string
		stopped bool // c1 was stopped
		record  bool // its record exists after Stop
	}{
		{"the record cannot be made: nothing is stopped", "volume-create docker-backup-stopped-", "recording container shop-db-1 before stopping it", false, false},
		{"the stop fails: the record stays for Restart", "stop c1", "stopping container shop-db-1", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cs := dbContainers(t, f)
			r := f.begin(f.options())
			call := tc.fail
			if strings.HasPrefix(call, "volume-create") {
				call += r.ID + "-c1"
			}
			f.eng.Fail(call, errors.New("boom"))
			s, err := r.Stop(context.Background(), "db", cs)
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
			if got := f.eng.CallsWith("stop "); len(got) > 0 != (tc.fail == "stop c1") {
				t.Errorf("stops %v", got)
			}
			if _, ok := f.eng.Volume(recordName(r.ID, "c1")); ok != tc.record {
				t.Errorf("record exists %v, want %v", ok, tc.record)
			}
			if err := s.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, ok := f.eng.Volume(recordName(r.ID, "c1")); ok {
				t.Error("the record stayed after Restart")
			}
		})
	}
}

func TestStopWithCancelledContextStopsNothing(t *testing.T) {
	f := newFixture(t)
	cs := dbContainers(t, f)
	r := f.begin(f.options())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := r.Stop(ctx, "db", cs)
	if !errors.Is(err, context.Canceled) || s.Count() != 0 || len(f.eng.CallsWith("stop ", "volume-create ")) != 0 {
		t.Errorf("err %v, %d stopped, calls %q", err, s.Count(), f.eng.Calls())
	}
}

func TestRestartWhenTheContainerIsGoneOrDoesNotStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(f *fixture)
		err    string
		record bool
		warn   string
	}{
		{"gone", func(f *fixture) { _ = engine.RemoveContainer(context.Background(), f.eng, "c1") }, "", false, "container shop-db-1 no longer exists"},
		{"does not start", func(f *fixture) { f.eng.Fail("start c1", errors.New("no space left")) }, "no space left", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cs := dbContainers(t, f)
			r := f.begin(f.options())
			s, err := r.Stop(context.Background(), "db", cs)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(f)
			err = s.Restart(context.Background())
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err %v, want %q", err, tc.err)
			}
			if _, ok := f.eng.Volume(recordName(r.ID, "c1")); ok != tc.record {
				t.Errorf("record exists %v, want %v", ok, tc.record)
			}
			if tc.warn != "" && len(f.warned(tc.warn)) != 1 {
				t.Errorf("warnings %q, want %q", f.warnings, tc.warn)
			}
		})
	}
}
