package swap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// sparseMiB is the apparent size of the sparse files the tests copy.
const sparseMiB = 64

// writeSparse makes a file of sparseMiB MiB that holds data only at the given offsets
// (4 KiB each), and returns its allocated 512-byte blocks.
func writeSparse(t *testing.T, path string, offsets ...int64) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(sparseMiB << 20); err != nil {
		t.Fatal(err)
	}
	for i, off := range offsets {
		if _, err := f.WriteAt(bytes.Repeat([]byte{byte('a' + i)}, 4096), off); err != nil {
			t.Fatal(err)
		}
	}
	return blocks(t, path)
}

// blocks is a file's allocated 512-byte blocks (stat's %b).
func blocks(t *testing.T, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks
}

// TestCopyTreeKeepsHoles copies sparse files (data at the start, the middle, the end, or
// none at all) and a hard link to one: each copy has the same content and size and no
// more allocated blocks than its source.
func TestCopyTreeKeepsHoles(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]int64{
		"middle": {10 << 20, 40 << 20},
		"start":  {0},
		"end":    {sparseMiB<<20 - 4096},
		"holes":  nil,
	}
	for name, offsets := range files {
		if b := writeSparse(t, filepath.Join(src, name), offsets...); b > 1024 {
			t.Skipf("the test folder's filesystem does not make holes (%s takes %d blocks)", name, b)
		}
	}
	if err := os.Link(filepath.Join(src, "middle"), filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"middle", "start", "end", "holes", "link"} {
		s, d := filepath.Join(src, name), filepath.Join(dst, name)
		want, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the copy's content differs (%d bytes, want %d)", name, len(got), len(want))
		}
		if sb, db := blocks(t, s), blocks(t, d); db > sb {
			t.Errorf("%s: the copy takes %d blocks, its source %d: holes were filled", name, db, sb)
		}
	}
	var a, b unix.Stat_t
	if err := unix.Stat(filepath.Join(dst, "middle"), &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(dst, "link"), &b); err != nil {
		t.Fatal(err)
	}
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("middle and link: inodes %d and %d, %d links: want one file with 2 links", a.Ino, b.Ino, a.Nlink)
	}
}
