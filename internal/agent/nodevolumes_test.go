package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// node-volumes removes the volumes named and those labelled, but kept ones and any
// volume without the required labels, and only on the node its spec names.
func TestNodeVolumes(t *testing.T) {
	spec := agent.NodeVolumesSpec{Remove: []string{"p_data-staging-1", "users-volume"}, Labelled: []string{"io.docker-backup.rollback=p_data"},
		Keep: []string{"p_data-rollback-2"}, Require: map[string]string{"io.docker-backup.project": "p"}, Node: "w2"}
	run := func(t *testing.T, node string) (*enginetest.Engine, int, string) {
		eng := enginetest.New(t)
		eng.Swarm = &enginetest.Swarm{NodeID: node}
		ours := map[string]string{"io.docker-backup.project": "p"}
		eng.AddVolume("p_data-staging-1", ours)
		eng.AddVolume("users-volume", nil)
		eng.AddVolume("p_data-rollback-1", map[string]string{"io.docker-backup.project": "p", "io.docker-backup.rollback": "p_data"})
		eng.AddVolume("p_data-rollback-2", map[string]string{"io.docker-backup.project": "p", "io.docker-backup.rollback": "p_data"})
		path := filepath.Join(t.TempDir(), "spec.json")
		data, _ := json.Marshal(spec)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		code := agent.Run(context.Background(), []string{agent.NodeVolumesCommand, "--spec", path}, agent.Env{
			Streams: agent.Streams{Out: &stderr, Err: &stderr},
			Connect: func() (engine.API, error) { return eng, nil },
		})
		return eng, code, stderr.String()
	}
	eng, code, stderr := run(t, "w2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := eng.VolumeNames(), []string{"p_data-rollback-2", "users-volume"}; !slices.Equal(got, want) {
		t.Errorf("volumes left %q, want %q", got, want)
	}
	eng, code, stderr = run(t, "w1")
	if code == 0 || !strings.Contains(stderr, `reaches node "w1", not node w2: nothing removed`) || len(eng.VolumeNames()) != 4 {
		t.Errorf("on another node: exit %d, %q, volumes %q", code, stderr, eng.VolumeNames())
	}
}
