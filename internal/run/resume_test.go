package run

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// seedSwap is what a dead run left of a restore of service files: its stop record, its
// staging, rollback and records volumes. It returns the records volume's labels.
func seedSwap(f *fixture, dead string) map[string]string {
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", false))
	name, labels := record(dead, "c1")
	labels[helper.LabelService] = "files"
	f.eng.AddVolume(name, labels)
	f.eng.AddVolume("shop_data", nil)
	own := func(extra map[string]string) map[string]string {
		l := map[string]string{helper.LabelProject: "shop", helper.LabelRun: dead, helper.LabelService: "files"}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	f.eng.AddVolume("st", own(map[string]string{helper.LabelTemporary: "true", helper.LabelStaging: "shop/files/data"}))
	f.eng.AddVolume("rb", own(map[string]string{helper.LabelRollback: "shop_data"}))
	targets, _ := json.Marshal([]helper.SwapTarget{{Type: "volume", Live: "shop_data", Staging: "st", Rollback: "rb"}})
	rec := own(map[string]string{helper.LabelTemporary: "true", helper.LabelSwap: "n1", helper.LabelSwapTargets: string(targets)})
	f.eng.AddVolume("rec", rec)
	return rec
}

// A swap whose helper was killed is finished from the journals in its records volume,
// with mounts made from the volumes' labels, before the service it stopped is started
// again; one that cannot be finished keeps its volumes and its service stopped.
func TestRecoverDeadResumesAKilledSwap(t *testing.T) {
	for _, tc := range []struct {
		name              string
		code              int
		state             string
		started, stagedOK bool
		rollbackOK        bool
	}{
		{"finished", 0, agent.MountNew, true, false, true},
		{"put back", agent.SwapPutBack, agent.MountOld, true, false, false},
		{"never begun", agent.SwapNotBegun, agent.MountOld, true, false, false},
		{"cannot be finished", agent.SwapPutBackFailed, agent.MountMixed, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			seedSwap(f, "dead1")
			var order []string
			f.eng.Program = func(p *enginetest.Process) int {
				kind := p.Config.Labels[helper.LabelKind]
				order = append(order, kind+" "+strings.Join(p.Config.Cmd, " "))
				if kind != helper.KindSwap {
					return f.rst.Program(p)
				}
				mounts := map[string]string{}
				for _, m := range p.HostConfig.Mounts {
					mounts[m.Target] = string(m.Type) + " " + m.Source
				}
				if mounts[agent.RecordsDir] != "volume rec" || mounts[agent.VolumesDir] != "bind /var/lib/docker/volumes" || len(mounts) != 2 {
					t.Errorf("resume helper mounts %v: want the records volume and the folder of volumes", mounts)
				}
				var spec agent.SwapSpec
				if err := json.Unmarshal([]byte(p.Files[agent.SpecFile]), &spec); err != nil || spec.Nonce != "n1" || len(spec.Mounts) != 1 ||
					spec.Mounts[0].Live != "/volumes/shop_data/_data" || spec.Mounts[0].Staging != "/volumes/st/_data" || spec.Mounts[0].Rollback != "/volumes/rb/_data" {
					t.Errorf("resume spec %q: %v", p.Files[agent.SpecFile], err)
				}
				if c, _ := f.eng.Container("c1"); c.Running() {
					t.Error("the service was started before its swap was finished")
				}
				_, _ = p.Stdout.Write([]byte(`{"mounts":["` + tc.state + `"]}` + "\n"))
				return tc.code
			}
			if _, err := f.newRun("cur0000001").recoverDead(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(order, []string{"restore-swap swap --resume"}) {
				t.Fatalf("helpers %q: want one resume", order)
			}
			if c, _ := f.eng.Container("c1"); c.Running() != tc.started {
				t.Errorf("c1 running %v, want %v", c.Running(), tc.started)
			}
			for name, want := range map[string]bool{"st": tc.stagedOK, "rec": tc.stagedOK, "rb": tc.rollbackOK, "shop_data": true} {
				if _, ok := f.eng.Volume(name); ok != want {
					t.Errorf("volume %s kept %v, want %v", name, ok, want)
				}
			}
		})
	}
}

// Records that name volumes which are not that run's own (forged, or another run's)
// are never acted on: no helper mounts anything, and the service stays stopped.
func TestRecoverDeadRefusesForeignSwapRecords(t *testing.T) {
	for name, change := range map[string]func(f *fixture, rec map[string]string){
		"staging of another run": func(f *fixture, _ map[string]string) {
			f.eng.AddVolume("st", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "other", helper.LabelService: "files", helper.LabelTemporary: "true", helper.LabelStaging: "shop/files/data"})
		},
		"rollback of another volume": func(f *fixture, _ map[string]string) {
			f.eng.AddVolume("rb", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead1", helper.LabelService: "files", helper.LabelRollback: "shop_other"})
		},
		"a host folder as a volume": func(f *fixture, rec map[string]string) {
			targets, _ := json.Marshal([]helper.SwapTarget{{Type: "volume", Live: "/", Staging: "st", Rollback: "rb"}})
			rec[helper.LabelSwapTargets] = string(targets)
			f.eng.AddVolume("rec", rec)
		},
		"no targets": func(f *fixture, rec map[string]string) {
			rec[helper.LabelSwapTargets] = "[]"
			f.eng.AddVolume("rec", rec)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			rec := seedSwap(f, "dead1")
			change(f, rec)
			f.eng.Program = func(p *enginetest.Process) int {
				if p.Config.Labels[helper.LabelKind] == helper.KindSwap {
					t.Errorf("a swap helper ran with mounts %v", p.HostConfig.Mounts)
				}
				return f.rst.Program(p)
			}
			if _, err := f.newRun("cur0000001").recoverDead(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c, _ := f.eng.Container("c1"); c.Running() {
				t.Error("c1 started though its swap was not finished")
			}
			if !slices.ContainsFunc(f.warnings, func(w string) bool { return strings.Contains(w, "is not resumed") }) {
				t.Errorf("warnings %q", f.warnings)
			}
		})
	}
}

// A dead run's temporary volumes without swap records (a verify throwaway, a staging
// volume whose swap never began) are removed unread: no helper looks into them.
func TestRecoverDeadNeverReadsTemporaryVolumes(t *testing.T) {
	f := newFixture(t)
	f.eng.AddVolume("throwaway", map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead1", helper.LabelService: "files", helper.LabelTemporary: "true"})
	f.eng.Program = func(p *enginetest.Process) int {
		if p.Config.Labels[helper.LabelHelper] != "" {
			t.Errorf("helper %s ran", p.Config.Labels[helper.LabelKind])
		}
		return f.rst.Program(p)
	}
	if _, err := f.newRun("cur0000001").recoverDead(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.eng.Volume("throwaway"); ok {
		t.Error("the dead run's temporary volume is left")
	}
}
