package swap

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// fileFixture is a live file, a staged one and a rollback path, with their manifests.
func fileFixture(t *testing.T) (dir string, old, staged string) {
	t.Helper()
	dir = t.TempDir()
	build(t, dir, []node{
		{path: "live", kind: 'f', data: "old content", mode: 0o644, xattr: "old"},
		{path: "staged", kind: 'f', data: "the new, longer content", mode: 0o4750&0o777 | os.ModeSetuid, uid: 1000, xattr: "new"},
	})
	m := manifest(t, dir)
	return dir, m["live"], m["staged"]
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestSwapFile(t *testing.T) {
	dir, old, staged := fileFixture(t)
	live := filepath.Join(dir, "live")
	ino := inode(t, live)
	if err := SwapFile(live, filepath.Join(dir, "staged"), filepath.Join(dir, "rollback")); err != nil {
		t.Fatal(err)
	}
	if inode(t, live) != ino {
		t.Fatal("the live file was replaced, not rewritten in place")
	}
	m := manifest(t, dir)
	if m["live"] != staged {
		t.Errorf("live is\n  %s\nwant\n  %s", m["live"], staged)
	}
	if m["rollback"] != old {
		t.Errorf("rollback is\n  %s\nwant\n  %s", m["rollback"], old)
	}
}

func TestSwapFileFails(t *testing.T) {
	cases := []struct {
		name string
		at   []int // steps that fail: 1 copy, 2 truncate, 3 write, 4 set attributes, then the same putting back
		is   error
	}{
		{name: "copying to rollback", at: []int{1}, is: ErrUnchanged},
		{name: "truncating", at: []int{2}, is: ErrRolledBack},
		{name: "writing", at: []int{3}, is: ErrRolledBack},
		{name: "setting attributes", at: []int{4}, is: ErrRolledBack},
		{name: "writing, then putting back", at: []int{3, 6}, is: ErrMixed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, old, _ := fileFixture(t)
			live := filepath.Join(dir, "live")
			count := 0
			s := newSwapper()
			s.hook = failAt(&count, tc.at...)
			err := s.swapFile(live, filepath.Join(dir, "staged"), filepath.Join(dir, "rollback"))
			if !errors.Is(err, tc.is) || !errors.Is(err, errInjected) {
				t.Fatalf("got %v, want %v", err, tc.is)
			}
			if tc.is == ErrMixed {
				return
			}
			if m := manifest(t, dir); m["live"] != old {
				t.Fatalf("live is\n  %s\nwant\n  %s", m["live"], old)
			}
		})
	}
}

func TestSwapFileRefusesFolders(t *testing.T) {
	dir := t.TempDir()
	err := SwapFile(dir, filepath.Join(dir, "x"), filepath.Join(dir, "y"))
	if !errors.Is(err, ErrUnchanged) {
		t.Fatalf("got %v, want ErrUnchanged", err)
	}
}
