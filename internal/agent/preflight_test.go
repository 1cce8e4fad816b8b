package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeSpec(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(p, data, 0o400); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPreflightMarksStagingAndReports(t *testing.T) {
	live, staging := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(live, "a"), bytes.Repeat([]byte("x"), 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := writeSpec(t, PreflightSpec{Nonce: "n1", Mounts: []PreflightMount{{Live: live, Staging: staging}}})
	var out bytes.Buffer
	if err := preflight(t.Context(), []string{"--spec", spec}, Streams{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(staging, StagedMarker("n1"))); err != nil || string(got) != "n1" {
		t.Errorf("marker %q, %v", got, err)
	}
	var rep PreflightReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.LiveKiB < 8 || rep.FreeKiB == 0 || rep.LiveDevice == 0 {
		t.Errorf("report %s (%+v), %v", out.String(), rep, err)
	}
}

func TestPreflightRefusesAKindMismatch(t *testing.T) {
	live, staging := t.TempDir(), t.TempDir()
	spec := writeSpec(t, PreflightSpec{Nonce: "n1", Mounts: []PreflightMount{{File: true, Live: live, Staging: staging}}})
	err := preflight(t.Context(), []string{"--spec", spec}, Streams{Out: &bytes.Buffer{}})
	var coded *exitError
	if !errors.As(err, &coded) || coded.code != PreflightTarget {
		t.Fatalf("err %v, want exit code %d", err, PreflightTarget)
	}
	if _, err := os.Stat(filepath.Join(staging, StagedMarker("n1"))); err == nil {
		t.Error("marked a staging folder of a mount that does not match")
	}
}

func TestEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := empty(t.Context(), []string{dir}, Streams{}); err != nil {
		t.Errorf("empty folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var coded *exitError
	if err := empty(t.Context(), []string{dir}, Streams{}); !errors.As(err, &coded) || coded.code != ExitFailure {
		t.Errorf("folder with a hidden file: %v", err)
	}
}
