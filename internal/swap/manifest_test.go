package swap

import (
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// node is an entry of a test tree.
type node struct {
	path  string
	kind  byte   // 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'p' fifo
	data  string // content, or the target of a symlink or hard link
	mode  os.FileMode
	uid   int
	xattr string // value of user.test, if any
}

// build makes the nodes under root (which exists), then gives every entry a
// deterministic modification time, folders after their content.
func build(t *testing.T, root string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(root, n.path)
		var err error
		switch n.kind {
		case 'f':
			err = os.WriteFile(p, []byte(n.data), 0o600)
		case 'd':
			err = os.MkdirAll(p, 0o700)
		case 'l':
			err = os.Symlink(n.data, p)
		case 'h':
			err = os.Link(filepath.Join(root, n.data), p)
		case 'p':
			err = unix.Mkfifo(p, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		if n.kind != 'l' && n.kind != 'h' {
			if err := os.Lchown(p, n.uid, n.uid); err != nil {
				t.Fatal(err)
			}
			if n.mode != 0 {
				if err := unix.Chmod(p, uint32(n.mode&os.ModePerm)|unixBits(n.mode)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n.xattr != "" {
			if err := unix.Lsetxattr(p, "user.test", []byte(n.xattr), 0); err != nil && !unsupported(err) {
				t.Fatal(err)
			}
		}
	}
	setTimes(t, root)
}

// unixBits maps the setuid, setgid and sticky bits of an os.FileMode to st_mode's.
func unixBits(m os.FileMode) uint32 {
	var b uint32
	if m&os.ModeSetuid != 0 {
		b |= unix.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		b |= unix.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		b |= unix.S_ISVTX
	}
	return b
}

// setTimes gives every entry under root (root too) a time derived from its path.
func setTimes(t *testing.T, root string) {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(paths, func(i, j int) bool { return strings.Count(paths[i], "/") > strings.Count(paths[j], "/") })
	for _, p := range paths {
		h := fnv.New32a()
		h.Write([]byte(root + p))
		sec := int64(1_000_000_000 + h.Sum32()%100_000_000)
		ts := []unix.Timespec{{Sec: sec, Nsec: 1}, {Sec: sec, Nsec: 123456789}}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}

// manifest describes every entry under root, root itself as ".": type, mode, owner,
// size, content hash, link target, mtime, user.test xattr, and which entry it is a hard
// link of. Two trees with equal manifests are the same for a restore.
func manifest(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	inodes := map[uint64][]string{}
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		kind := st.Mode & unix.S_IFMT
		e := fmt.Sprintf("type=%o mode=%o uid=%d gid=%d mtime=%d", kind, st.Mode&0o7777, st.Uid, st.Gid, st.Mtim.Nano())
		switch kind {
		case unix.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e += fmt.Sprintf(" size=%d sha=%x", st.Size, sha256.Sum256(b))
		case unix.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e += " target=" + target
		}
		if kind != unix.S_IFLNK && rel != "." {
			if v, err := getXattr(p, "user.test"); err == nil {
				e += " xattr=" + string(v)
			}
		}
		if kind != unix.S_IFDIR && st.Nlink > 1 {
			inodes[st.Ino] = append(inodes[st.Ino], rel)
		}
		m[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range inodes {
		sort.Strings(paths)
		for _, p := range paths {
			m[p] += " link=" + paths[0]
		}
	}
	return m
}

// diff lists how two manifests differ, empty when they are equal.
func diff(want, got map[string]string) string {
	var out []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			out = append(out, "missing "+p)
		} else if g != w {
			out = append(out, fmt.Sprintf("%s:\n  want %s\n  got  %s", p, w, g))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			out = append(out, "extra "+p)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// expectNew is the manifest Live must have after a swap: the staged tree without the
// skipped names and the kept paths, plus the kept paths of the old tree and, where the
// staged tree lacks them, the old folders on their way.
func expectNew(old, staged map[string]string, keep, skip []string) map[string]string {
	want := map[string]string{}
	for p, e := range staged {
		if !slices.Contains(skip, strings.SplitN(p, "/", 2)[0]) && !keptBy(p, keep) {
			want[p] = e
		}
	}
	for p, e := range old {
		if keptBy(p, keep) {
			want[p] = e
			for _, d := range prefixes(p) {
				if _, ok := want[d]; !ok {
					want[d] = old[d]
				}
			}
		}
	}
	return want
}

func keptBy(p string, keep []string) bool {
	for _, k := range keep {
		if p == k || under(k, p) {
			return true
		}
	}
	return false
}
