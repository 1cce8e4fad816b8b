package run

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// record is the stop record a run left for a container.
func record(runID, containerID string) (string, map[string]string) {
	return recordName(runID, containerID), map[string]string{helper.LabelProject: "shop", helper.LabelRun: runID, helper.LabelService: "db", helper.LabelStopped: containerID}
}

func TestRecoverDead(t *testing.T) {
	const current = "cur0000001"
	for _, tc := range []struct {
		name  string
		seed  func(f *fixture)
		dead  []string
		check func(t *testing.T, f *fixture)
	}{
		{
			name: "a container a dead run stopped is started and its record removed",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", false))
				f.eng.AddVolume(record("dead1", "c1"))
			},
			check: func(t *testing.T, f *fixture) {
				if c, _ := f.eng.Container("c1"); !c.Running() {
					t.Error("c1 was not started again")
				}
				if _, ok := f.eng.Volume(recordName("dead1", "c1")); ok {
					t.Error("the stop record stayed")
				}
				if len(f.warned("started container c1 again: interrupted run dead1 had stopped it")) != 1 {
					t.Errorf("warnings %q", f.warnings)
				}
			},
		},
		{
			name: "a stop the dead run began is waited for, then the container is started",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
				f.eng.AddVolume(record("dead1", "c1"))
				// The engine finishes the stop while recovery waits for it.
				f.eng.Waiting = func(c enginetest.Container) {
					if c.ID == "c1" {
						f.eng.Exit("c1", 0)
					}
				}
			},
			check: func(t *testing.T, f *fixture) {
				if c, _ := f.eng.Container("c1"); !c.Running() {
					t.Error("c1 was not started again once its stop ended")
				}
				if got := f.eng.CallsWith("start c1"); len(got) != 1 {
					t.Errorf("starts %v, want one", got)
				}
				if _, ok := f.eng.Volume(recordName("dead1", "c1")); ok {
					t.Error("the stop record stayed")
				}
			},
		},
		{
			name: "a container that no longer exists is a warning and its record goes",
			seed: func(f *fixture) { f.eng.AddVolume(record("dead1", "c3")) },
			check: func(t *testing.T, f *fixture) {
				if _, ok := f.eng.Volume(recordName("dead1", "c3")); ok {
					t.Error("the stop record of a container that no longer exists stayed")
				}
				if len(f.warned("container c3, stopped by interrupted run dead1, no longer exists")) != 1 {
					t.Errorf("warnings %q", f.warnings)
				}
			},
		},
		{
			name: "a container that does not start keeps its record for the next run",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.ServiceContainer("c2", "shop", "db", false))
				f.eng.AddVolume(record("dead1", "c2"))
				f.eng.Fail("start c2", errors.New("port is already allocated"))
			},
			check: func(t *testing.T, f *fixture) {
				if _, ok := f.eng.Volume(recordName("dead1", "c2")); !ok {
					t.Error("the stop record of a container that did not start was removed")
				}
				if len(f.warned("port is already allocated (stopped by interrupted run dead1; the next run tries again)")) != 1 {
					t.Errorf("warnings %q", f.warnings)
				}
			},
		},
		{
			name: "temporary volumes of dead runs go, rollback and side-by-side volumes stay",
			seed: func(f *fixture) {
				f.eng.AddVolume("shop_data-staging-x-dead1", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead1", helper.LabelService: "files", helper.LabelTemporary: "true", "io.docker-backup.staging": "shop/files/data"})
				f.eng.AddVolume("shop_data-rollback-x-dead1", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead1", helper.LabelService: "files", "io.docker-backup.rollback": "shop_data"})
				f.eng.AddVolume("copy", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead1", helper.LabelService: "files"})
				f.eng.AddVolume("shop_data", map[string]string{"com.docker.compose.project": "shop"})
				f.eng.AddVolume("other_data-staging-x-dead9", map[string]string{helper.LabelProject: "other", helper.LabelRun: "dead9", helper.LabelTemporary: "true"})
			},
			check: func(t *testing.T, f *fixture) {
				want := []string{"copy", "other_data-staging-x-dead9", "shop_data", "shop_data-rollback-x-dead1"}
				if got := f.eng.VolumeNames(); !slices.Equal(got, want) {
					t.Errorf("volumes %v, want %v", got, want)
				}
			},
		},
		{
			name: "the current run's resources are never touched",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.ServiceContainer("c6", "shop", "db", false))
				f.eng.AddVolume(record(current, "c6"))
				f.eng.AddVolume("tmp-"+current, map[string]string{helper.LabelProject: "shop", helper.LabelRun: current, helper.LabelTemporary: "true"})
				f.eng.AddContainer(enginetest.Seed{ID: "own", Name: "own", Labels: helperLabels(current, "db", "dump")})
				f.eng.AddContainer(enginetest.Seed{ID: "anchor", Name: anchorName("shop"), Labels: map[string]string{helper.LabelProject: "shop", helper.LabelRun: current, helper.LabelKind: helper.KindAnchor}})
			},
			check: func(t *testing.T, f *fixture) {
				if got := f.eng.VolumeNames(); len(got) != 2 {
					t.Errorf("volumes %v, want the current run's record and temporary volume", got)
				}
				if c, _ := f.eng.Container("c6"); c.Running() {
					t.Error("a container the current run stopped was started")
				}
				for _, id := range []string{"own", "anchor"} {
					if c, ok := f.eng.Container(id); !ok || !c.Running() || len(c.Signals) != 0 {
						t.Errorf("container %s was touched: %+v (found %v)", id, c, ok)
					}
				}
			},
		},
		{
			name: "a running helper without a run label is left alone, a finished one removed",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.Seed{ID: "ro1", Name: "ro1", Labels: helperLabels("", "", "snapshots")})
				f.eng.AddContainer(enginetest.Seed{ID: "ro2", Name: "ro2", Labels: helperLabels("", "", "check"), State: container.StateCreated})
				f.eng.AddContainer(enginetest.Seed{ID: "ro3", Name: "ro3", Labels: helperLabels("", "", "snapshots"), State: container.StateExited})
			},
			check: func(t *testing.T, f *fixture) {
				for _, id := range []string{"ro1", "ro2"} {
					if c, ok := f.eng.Container(id); !ok || len(c.Signals) != 0 {
						t.Errorf("read-only helper %s was touched: %+v (found %v)", id, c, ok)
					}
				}
				if _, ok := f.eng.Container("ro3"); ok {
					t.Error("a finished read-only helper was left")
				}
			},
		},
		{
			name: "a dead run's running helper is interrupted and removed",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.Seed{ID: "h1", Name: "h1", Labels: helperLabels("dead1", "files", "backup")})
				f.eng.AddContainer(enginetest.Seed{ID: "h2", Name: "h2", Labels: helperLabels("dead1", "db", "dump"), State: container.StateExited})
				f.eng.AddContainer(enginetest.Seed{ID: "h3", Name: "h3", Labels: helperLabels("dead2", "db", "init"), State: container.StateCreated})
			},
			dead: []string{"dead1", "dead2"},
			check: func(t *testing.T, f *fixture) {
				if got := f.eng.CallsWith("kill "); !slices.Equal(got, []string{"kill h1 SIGINT"}) {
					t.Errorf("signals %v, want SIGINT to the running helper alone", got)
				}
				if got := f.eng.Containers(); len(got) != 0 {
					t.Errorf("containers left: %+v", got)
				}
			},
		},
		{
			name: "a dead run's swap is let finish",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.Seed{ID: "swap", Name: "shop-backup-files-restore-swap-1", Labels: helperLabels("dead1", "files", "restore-swap")})
				f.onWarn = func(msg string) {
					if strings.HasPrefix(msg, "waiting for helper shop-backup-files-restore-swap-1 of interrupted run dead1") {
						f.eng.Exit("swap", 0)
					}
				}
			},
			dead: []string{"dead1"},
			check: func(t *testing.T, f *fixture) {
				if got := f.eng.CallsWith("kill ", "stop "); len(got) != 0 {
					t.Errorf("the swap was stopped: %v", got)
				}
				if _, ok := f.eng.Container("swap"); ok {
					t.Error("the finished swap helper was left")
				}
			},
		},
		{
			name: "containers a helper of an older version stopped are started",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.ServiceContainer("c4", "shop", "db", false))
				l := helperLabels("", "db", "backup")
				l[legacyStopped] = "c4,c5"
				f.eng.AddContainer(enginetest.Seed{ID: "legacy", Name: "legacy", Labels: l, State: container.StateExited})
			},
			check: func(t *testing.T, f *fixture) {
				if c, _ := f.eng.Container("c4"); !c.Running() {
					t.Error("c4 was not started again")
				}
				if len(f.warned("container c5, stopped by an interrupted run, no longer exists")) != 1 {
					t.Errorf("warnings %q", f.warnings)
				}
				if _, ok := f.eng.Container("legacy"); ok {
					t.Error("the legacy helper was left")
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.seed(f)
			dead, err := f.newRun(current).recoverDead(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dead, tc.dead) {
				t.Errorf("dead runs %v, want %v", dead, tc.dead)
			}
			tc.check(t, f)
		})
	}
}

func TestRecoverDeadFailsWhenTheEngineCannotList(t *testing.T) {
	f := newFixture(t)
	f.eng.Fail("list", errors.New("engine down"))
	if _, err := f.newRun("cur").recoverDead(context.Background()); err == nil || !strings.Contains(err.Error(), "engine down") {
		t.Errorf("err %v, want the engine's error", err)
	}
}
