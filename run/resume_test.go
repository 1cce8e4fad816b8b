package run

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/agent"
	"github.com/docker-backup/docker-backup/engine/enginetest"
)

// A swap whose helper was killed is finished from the journal in its staging volume,
// with the mounts it had, before the service it stopped is started again; one that
// cannot be finished keeps its staging volume and its service stopped.
func TestRecoverDeadResumesAKilledSwap(t *testing.T) {
	const saved = `{"nonce":"n1","mounts":[{"live":"/volumes/shop_data/_data","staging":"/volumes/st/_data","rollback":"/volumes/rb/_data"}],"helper":[{"type":"bind","source":"/var/lib/docker/volumes","target":"/volumes"}]}`
	for _, tc := range []struct {
		name      string
		resumeRC  int
		started   bool
		stagingOK bool
	}{
		{"finished", 0, true, false},
		{"put back", agent.SwapPutBack, true, false},
		{"cannot be finished", agent.SwapPutBackFailed, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", false))
			name, labels := record("dead1", "c1")
			labels[LabelService] = "files"
			f.eng.AddVolume(name, labels)
			f.eng.AddVolume("st", map[string]string{LabelProject: "shop", LabelRun: "dead1", LabelService: "files", LabelTemporary: "true"})
			var order []string
			f.eng.Program = func(p *enginetest.Process) int {
				kind := p.Config.Labels[LabelKind]
				order = append(order, kind+" "+strings.Join(p.Config.Cmd, " "))
				switch kind {
				case "swap-check":
					_, _ = p.Stdout.Write([]byte(saved + "\n"))
					return 0
				case kindSwap:
					if len(p.HostConfig.Mounts) != 1 || p.HostConfig.Mounts[0].Source != "/var/lib/docker/volumes" || !strings.Contains(p.Files[agent.SpecFile], `"nonce":"n1"`) {
						t.Errorf("resume helper mounts %v, files %v: want the swap's own", p.HostConfig.Mounts, p.Files)
					}
					if c, _ := f.eng.Container("c1"); c.Running() {
						t.Error("the service was started before its swap was finished")
					}
					return tc.resumeRC
				}
				return f.rst.Program(p)
			}
			if _, err := f.newRun("cur0000001").recoverDead(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(order, "restore-swap swap --resume") {
				t.Fatalf("helpers %q: no resume", order)
			}
			if c, _ := f.eng.Container("c1"); c.Running() != tc.started {
				t.Errorf("c1 running %v, want %v", c.Running(), tc.started)
			}
			if _, ok := f.eng.Volume("st"); ok != tc.stagingOK {
				t.Errorf("staging volume kept %v, want %v", ok, tc.stagingOK)
			}
		})
	}
}
