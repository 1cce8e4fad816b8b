package agent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWithEnvFileAddsTheSecretSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.json")
	if err := os.WriteFile(path, []byte(`{"B2_ACCOUNT_KEY":"b2val'QZX","AZURE_ACCOUNT_KEY":"a b\nc"}`), 0o400); err != nil {
		t.Fatal(err)
	}
	got, err := withEnvFile([]string{"PATH=/bin"}, path)
	want := []string{"PATH=/bin", "AZURE_ACCOUNT_KEY=a b\nc", "B2_ACCOUNT_KEY=b2val'QZX"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("withEnvFile = %q, %v; want %q", got, err, want)
	}
	if got, err := withEnvFile([]string{"PATH=/bin"}, filepath.Join(t.TempDir(), "none")); err != nil || len(got) != 1 {
		t.Errorf("without a file: %q, %v", got, err)
	}
}

func TestMainRefusesAnUnknownCommand(t *testing.T) {
	var out, errs testWriter
	if code := Main([]string{"nope"}, Streams{Out: &out, Err: &errs}); code != ExitUsage || errs.s == "" {
		t.Errorf("exit %d, stderr %q", code, errs.s)
	}
}

type testWriter struct{ s string }

func (w *testWriter) Write(p []byte) (int, error) { w.s += string(p); return len(p), nil }
