package agent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return strings.Join(out, " ")
}

// The swap checks the marker, saves its spec for a resume, moves live to rollback and
// staging to live, and leaves no journal; pending then finds nothing to resume.
func TestSwapCommandReplacesLiveContent(t *testing.T) {
	root := t.TempDir()
	live, staging, rollback := filepath.Join(root, "live"), filepath.Join(root, "staging"), filepath.Join(root, "rollback")
	for _, d := range []string{live, staging, rollback} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, live, map[string]string{"old": "1", "keep.txt": "k"})
	writeFiles(t, staging, map[string]string{"new": "2", "sub/x": "3", StagedMarker("n1"): "n1"})
	spec := writeSpec(t, SwapSpec{Nonce: "n1", Mounts: []SwapMount{{Live: live, Staging: staging, Rollback: rollback, Keep: []string{"keep.txt"}}}})
	if err := swapCommand(t.Context(), []string{"--spec", spec}, Streams{Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, live); got != "keep.txt new sub" {
		t.Errorf("live holds %q", got)
	}
	if got := names(t, rollback); got != "old" {
		t.Errorf("rollback holds %q", got)
	}
	if _, err := os.Stat(filepath.Join(staging, SwapSaved("n1"))); err != nil {
		t.Errorf("no saved spec: %v", err)
	}
	var out bytes.Buffer
	if err := pending(t.Context(), []string{staging}, Streams{Out: &out}); err != nil || out.Len() != 0 {
		t.Errorf("pending after a finished swap: %q, %v", out.String(), err)
	}
}

func TestSwapCommandRefusesAStagingWithoutMarker(t *testing.T) {
	root := t.TempDir()
	live, staging, rollback := filepath.Join(root, "live"), filepath.Join(root, "staging"), filepath.Join(root, "rollback")
	for _, d := range []string{live, staging, rollback} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, live, map[string]string{"old": "1"})
	spec := writeSpec(t, SwapSpec{Nonce: "n1", Mounts: []SwapMount{{Live: live, Staging: staging, Rollback: rollback}}})
	var out bytes.Buffer
	err := swapCommand(t.Context(), []string{"--spec", spec}, Streams{Out: &out})
	var coded *exitError
	if !errors.As(err, &coded) || coded.code != SwapNotStaged || strings.TrimSpace(out.String()) != "0" {
		t.Fatalf("err %v, out %q", err, out.String())
	}
	if got := names(t, live); got != "old" {
		t.Errorf("live holds %q after a refused swap", got)
	}
}

func TestPendingFindsAnUnfinishedSwap(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{SwapSaved("n1"): `{"nonce":"n1"}`, SwapJournal("n1"): "{}"})
	var out bytes.Buffer
	if err := pending(t.Context(), []string{dir}, Streams{Out: &out}); err != nil || strings.TrimSpace(out.String()) != `{"nonce":"n1"}` {
		t.Errorf("pending = %q, %v", out.String(), err)
	}
}
