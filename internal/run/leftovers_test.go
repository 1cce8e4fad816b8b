package run

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

func TestFindLeftovers(t *testing.T) {
	staging := func(id string) map[string]string {
		return map[string]string{helper.LabelProject: "shop", helper.LabelRun: id, helper.LabelService: "files", helper.LabelTemporary: "true", "io.docker-backup.staging": "shop/files/data"}
	}
	throwaway := func(id string) map[string]string {
		l := helperLabels(id, "pg", "verify")
		l[helper.LabelTemporary] = "true"
		return l
	}
	for _, tc := range []struct {
		name string
		seed func(f *fixture)
		want string
	}{
		{
			name: "nothing at all",
			seed: func(*fixture) {},
		},
		{
			name: "a killed restore: its anchor names it, the service it stopped and its staging volumes",
			seed: func(f *fixture) {
				f.eng.AddContainer(holder(container.StateExited, time.Hour))
				f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", false))
				f.eng.AddVolume(record("other1", "c1"))
				f.eng.AddVolume("shop_data-staging-1-other1", staging("other1"))
				f.eng.AddVolume("shop_more-staging-1-other1", staging("other1"))
				f.eng.AddVolume("shop_data-rollback-1-other1", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "other1", helper.LabelService: "files", "io.docker-backup.rollback": "shop_data"})
			},
			want: "a dead run (restore, run other1) of project shop left service db stopped and 2 staging volumes: " +
				"the next docker backup up, restore, verify or forget of the project starts db again and removes the rest",
		},
		{
			name: "a killed drill whose anchor is gone: its copy and volume, not what was kept",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.Seed{ID: "copy1", Name: "shop-backup-verify-pg-1", Labels: throwaway("dead2")})
				f.eng.AddVolume("shop-backup-verify-pg-2", throwaway("dead2"))
				kept := throwaway("dead3")
				delete(kept, helper.LabelTemporary)
				kept[helper.LabelKept] = "true"
				f.eng.AddContainer(enginetest.Seed{ID: "kept1", Name: "shop-backup-verify-pg-3", Labels: kept})
				f.eng.AddVolume("shop-backup-verify-pg-4", kept)
			},
			want: "a dead run (verify, run dead2) of project shop left a throwaway copy of service pg and 1 throwaway volume: " +
				"the next docker backup up, restore, verify or forget of the project removes them",
		},
		{
			name: "a live run's work and a read-only command's helper are not left behind",
			seed: func(f *fixture) {
				f.eng.AddContainer(holder(container.StateRunning, time.Minute))
				f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", false))
				f.eng.AddVolume(record("other1", "c1"))
				f.eng.AddVolume("shop_data-staging-1-other1", staging("other1"))
				f.eng.AddContainer(enginetest.Seed{ID: "h1", Name: "shop-backup-restore-1", Labels: helperLabels("other1", "files", "restore")})
				f.eng.AddContainer(enginetest.Seed{ID: "ro", Name: "shop-backup-snapshots-1", Labels: helperLabels("", "", "snapshots")})
			},
		},
		{
			name: "an anchor created moments ago is a live run's",
			seed: func(f *fixture) {
				f.eng.AddContainer(holder(container.StateCreated, time.Second))
				f.eng.AddContainer(enginetest.Seed{ID: "h1", Name: "shop-backup-restore-1", Labels: helperLabels("other1", "files", "restore")})
			},
		},
		{
			name: "a stop record of a container that runs, or is gone, is nothing to tell",
			seed: func(f *fixture) {
				f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", true))
				f.eng.AddVolume(record("dead1", "c1"))
				f.eng.AddVolume(record("dead1", "c9"))
			},
		},
		{
			name: "a killed up on a stack: the service it scaled to 0, not another stack's or a live run's",
			seed: func(f *fixture) {
				f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{
					scaledBy("shop", "files", 1, "dead4"), scaledBy("other", "files", 1, "dead5"), scaledBy("shop", "web", 1, ""),
				}}
			},
			want: "a dead run (run dead4) of project shop left service files scaled to 0: " +
				"the next docker backup up, restore, verify or forget of the project scales files back",
		},
		{
			name: "a live run's scaled service is not left behind",
			seed: func(f *fixture) {
				f.eng.AddContainer(holder(container.StateRunning, time.Minute))
				f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{scaledBy("shop", "files", 1, "other1")}}
			},
		},
		{
			name: "two dead runs, one the anchor still names",
			seed: func(f *fixture) {
				f.eng.AddContainer(holder(container.StateExited, time.Minute))
				f.eng.AddContainer(enginetest.Seed{ID: "h1", Name: "shop-backup-restore-1", State: container.StateExited, Labels: helperLabels("other1", "files", "restore")})
				f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", false))
				f.eng.AddContainer(enginetest.ServiceContainer("c2", "shop", "files", false))
				f.eng.AddVolume(record("dead1", "c1"))
				f.eng.AddVolume(record("dead1", "c2"))
			},
			want: "dead runs (restore, run other1; run dead1) of project shop left service db stopped and 1 helper container: " +
				"the next docker backup up, restore, verify or forget of the project starts db again and removes the rest",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.seed(f)
			before := f.eng.VolumeNames()
			left, err := FindLeftovers(context.Background(), f.eng, "shop")
			if err != nil {
				t.Fatal(err)
			}
			if got := left.Message(); got != tc.want {
				t.Errorf("message\n%q\nwant\n%q", got, tc.want)
			}
			if left.Empty() != (tc.want == "") {
				t.Errorf("Empty() = %v for %+v", left.Empty(), left)
			}
			if got := f.eng.CallsWith("start", "stop", "kill", "remove", "create", "volume-", "exec", "service-update"); len(got) > 0 {
				t.Errorf("a look changed something: %v", got)
			}
			if after := f.eng.VolumeNames(); len(after) != len(before) {
				t.Errorf("volumes %v, were %v", after, before)
			}
		})
	}
}

// TestLeftoversGoneAfterBegin checks the message's promise: the next run that begins
// leaves nothing of what it named.
func TestLeftoversGoneAfterBegin(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", false))
	f.eng.AddVolume(record("dead1", "c1"))
	f.eng.AddVolume("shop_data-staging-1-dead1", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead1", helper.LabelService: "files", helper.LabelTemporary: "true"})
	l := helperLabels("dead1", "pg", "verify")
	l[helper.LabelTemporary] = "true"
	f.eng.AddContainer(enginetest.Seed{ID: "copy1", Name: "shop-backup-verify-pg-1", Labels: l})
	if left, err := FindLeftovers(context.Background(), f.eng, "shop"); err != nil || left.Empty() {
		t.Fatalf("leftovers %+v, %v: want some", left, err)
	}
	r := f.begin(f.options())
	// Seen during the run: its own anchor is live, and nothing else is left.
	if left, err := FindLeftovers(context.Background(), f.eng, "shop"); err != nil || !left.Empty() {
		t.Errorf("after run %s began: %q, %v", r.ID, left.Message(), err)
	}
	if c, _ := f.eng.Container("c1"); !c.Running() {
		t.Error("c1 was not started again")
	}
}
