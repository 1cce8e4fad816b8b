package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("older"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, data := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v; want 0644 whatever the umask and the older file", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want the file alone", len(entries))
	}
}

func TestWriteFileMissingFolder(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "state.json"), nil, 0o600); err == nil {
		t.Fatal("no error for a missing folder")
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".0.json12345":  true,
		".0.json":       false,
		"0.json12345":   false,
		".0.json12a45":  false,
		".0.jsonx":      false,
		".1.json123":    false,
		".0.json.tmp1":  false,
		".0.json000001": true,
	} {
		if got := IsTemp(name, "0.json"); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}
