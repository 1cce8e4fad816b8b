package swap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// variety is a tree with every kind of entry and attribute a copy must keep.
func variety() []node {
	return []node{
		{path: "a", kind: 'd', mode: 0o755},
		{path: "a/b", kind: 'd', mode: 0o700},
		{path: "a/b/deep.txt", kind: 'f', data: "deep", mode: 0o640, uid: 1000},
		{path: "a/empty", kind: 'd', mode: 0o750},
		{path: "tmp", kind: 'd', mode: 0o777 | os.ModeSticky},
		{path: "suid", kind: 'f', data: "#!/bin/true\n", mode: 0o755 | os.ModeSetuid},
		{path: "sgid-dir", kind: 'd', mode: 0o2775&0o777 | os.ModeSetgid, uid: 33},
		{path: "private", kind: 'f', data: "secret", mode: 0o600, uid: 999},
		{path: "readonly-dir", kind: 'd', mode: 0o500},
		{path: "xattr.txt", kind: 'f', data: "x", mode: 0o644, xattr: "hello"},
		{path: "link", kind: 'l', data: "a/b/deep.txt"},
		{path: "dangling", kind: 'l', data: "/nowhere/at/all"},
		{path: "hard1", kind: 'f', data: "same inode", mode: 0o644},
		{path: "a/hard2", kind: 'h', data: "hard1"},
		{path: "fifo", kind: 'p', mode: 0o620},
		{path: "empty-file", kind: 'f', mode: 0o644},
	}
}

func TestCopyTree(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	cases := []struct {
		name  string
		nodes []node
		into  bool // dst exists as a folder: content goes into it
	}{
		{name: "variety", nodes: variety()},
		{name: "into an existing folder", nodes: variety(), into: true},
		{name: "large file", nodes: []node{{path: "big", kind: 'f', data: big, mode: 0o644}}},
		{name: "empty", nodes: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			if err := os.Mkdir(src, 0o751); err != nil {
				t.Fatal(err)
			}
			build(t, src, tc.nodes)
			if tc.into {
				if err := os.Mkdir(dst, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			want := manifest(t, src)
			if err := CopyTree(src, dst); err != nil {
				t.Fatal(err)
			}
			if d := diff(want, manifest(t, dst)); d != "" {
				t.Fatalf("copy differs:\n%s", d)
			}
		})
	}
}

func TestCopyTreeSingleEntries(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, []node{
		{path: "f", kind: 'f', data: "file", mode: 0o4750},
		{path: "l", kind: 'l', data: "f"},
		{path: "d", kind: 'l', data: "missing"},
	})
	for _, name := range []string{"f", "l", "d"} {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(dir, name+".copy")
			if err := CopyTree(filepath.Join(dir, name), dst); err != nil {
				t.Fatal(err)
			}
			m := manifest(t, dir)
			if m[name] != m[name+".copy"] {
				t.Fatalf("want %s\ngot  %s", m[name], m[name+".copy"])
			}
		})
	}
}

func TestCopyTreeXattr(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lsetxattr(p, "user.test", []byte("v"), 0); unsupported(err) {
		t.Skip("the temporary folder's filesystem has no user extended attributes")
	} else if err != nil {
		t.Fatal(err)
	}
	if err := CopyTree(p, p+".copy"); err != nil {
		t.Fatal(err)
	}
	if v, err := getXattr(p+".copy", "user.test"); err != nil || string(v) != "v" {
		t.Fatalf("user.test = %q, %v; want v", v, err)
	}
}

func TestCopyTreeDevice(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "null")
	if err := unix.Mknod(src, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("cannot make a device here: %v", err)
	}
	if err := CopyTree(src, src+".copy"); err != nil {
		t.Fatal(err)
	}
	var a, b unix.Stat_t
	if err := unix.Lstat(src, &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(src+".copy", &b); err != nil {
		t.Fatal(err)
	}
	if a.Mode != b.Mode || a.Rdev != b.Rdev {
		t.Fatalf("copy is mode %o rdev %d, want %o %d", b.Mode, b.Rdev, a.Mode, a.Rdev)
	}
}

func TestCopyTreeRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, []node{{path: "src", kind: 'd'}, {path: "src/f", kind: 'f'}, {path: "dst", kind: 'd'}, {path: "dst/f", kind: 'f'}})
	err := CopyTree(filepath.Join(dir, "src"), filepath.Join(dir, "dst"))
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("got %v, want an error matching os.ErrExist", err)
	}
}

func TestCopyTreeManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 20,000 files")
	}
	const n = 20_000 // e2e TestSwapManyEntries swaps 120,000 through the agent
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "flat")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%06d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := CopyTree(filepath.Join(dir, "src"), filepath.Join(dir, "dst")); err != nil {
		t.Fatal(err)
	}
	t.Logf("copied %d entries in %v", n, time.Since(start))
	f, err := os.Open(filepath.Join(dir, "dst", "flat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil || len(names) != n {
		t.Fatalf("copy has %d entries (%v), want %d", len(names), err, n)
	}
}
