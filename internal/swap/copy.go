package swap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// CopyTree copies src to dst faithfully: regular files, folders (empty ones too),
// symlinks (not followed, dangling ones too), hard links (as links between the copies,
// for the links inside src), fifos, sockets and devices, each with its owner, mode (with
// setuid, setgid, sticky), access and modification times and extended attributes where
// the filesystems have them. A folder's times are set after its content.
//
// dst must not exist, except when both are folders: then src's content goes into dst,
// whose attributes become src's, as `cp -a src/. dst/` does. An entry inside dst with the
// name of one being copied is an error.
//
// Folders are read in batches and walked without recursion: any number of entries is
// fine, and memory is bounded by the depth of the tree (one open folder per level) and by
// the number of multiply-linked files not yet met through all of their links. Regular
// files are copied with copy_file_range(2) where the kernel can (io.Copy between files),
// their data extents only: holes in sparse files stay holes.
func CopyTree(src, dst string) error {
	return newCopier().tree(src, dst, dst)
}

// tree copies src to dst, which will be renamed to final before the next tree is copied
// by c: a link to a file of this tree is made to its path under dst, one to a file of an
// earlier tree to its path under that tree's final name.
func (c *copier) tree(src, dst, final string) error {
	c.n++
	c.dst, c.final = dst, final
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: src, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return c.entry(src, dst, &st)
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		if fi, serr := os.Lstat(dst); serr != nil || !fi.IsDir() {
			return err
		}
	}
	root, err := openFrame(src, dst, &st)
	if err != nil {
		return err
	}
	stack := []*frame{root}
	defer func() {
		for _, f := range stack {
			f.dir.Close()
		}
	}()
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		if len(f.names) == 0 {
			names, err := f.dir.Readdirnames(256)
			if errors.Is(err, io.EOF) {
				stack = stack[:len(stack)-1]
				f.dir.Close()
				if err := setAttrs(f.src, f.dst, &f.st); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", f.src, err)
			}
			f.names = names
		}
		name := f.names[0]
		f.names = f.names[1:]
		s, d := filepath.Join(f.src, name), filepath.Join(f.dst, name)
		var st unix.Stat_t
		if err := unix.Lstat(s, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: s, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := c.entry(s, d, &st); err != nil {
				return err
			}
			continue
		}
		// 0700 until its content is in: the copy's own mode may forbid writing it.
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		sub, err := openFrame(s, d, &st)
		if err != nil {
			return err
		}
		stack = append(stack, sub)
	}
	return nil
}

// frame is a folder being copied: its names not yet copied come in batches.
type frame struct {
	src, dst string
	st       unix.Stat_t
	dir      *os.File
	names    []string
}

// openFrame opens a folder to copy without following a symlink: one that replaced the
// folder since it was looked at is an error, never a way out of the tree.
func openFrame(src, dst string, st *unix.Stat_t) (*frame, error) {
	d, err := os.OpenFile(src, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	return &frame{src: src, dst: dst, st: *st, dir: d}, nil
}

// copier remembers the copies of multiply-linked files until all their links are met,
// across the trees it copies: the moves of one phase share one, so hard links between
// top-level entries stay links. (Not across phases: the inode of a removed source may be
// reused by then.)
type copier struct {
	links      map[fileID]*link
	n          int    // the number of the tree being copied
	dst, final string // its root, and the name that root will have
}

func newCopier() *copier {
	return &copier{links: map[fileID]*link{}}
}

type fileID struct{ dev, ino uint64 }

// link is the first copy of a multiply-linked file and how many links are still to meet.
type link struct {
	path       string // where it was made
	tree       int    // in which tree
	dst, final string // that tree's root and final name
	left       uint64
}

// at is where the copy is now.
func (l *link) at(c *copier) string {
	if l.tree == c.n {
		return l.path
	}
	return l.final + strings.TrimPrefix(l.path, l.dst)
}

// entry copies anything but a folder.
func (c *copier) entry(src, dst string, st *unix.Stat_t) error {
	id := fileID{uint64(st.Dev), st.Ino}
	if l, ok := c.links[id]; ok {
		if err := os.Link(l.at(c), dst); err != nil {
			return err
		}
		if l.left--; l.left == 0 {
			delete(c.links, id)
		}
		return nil
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		err = copyFile(src, dst)
	case unix.S_IFLNK:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	default: // fifo, socket, character or block device
		if err = unix.Mknod(dst, st.Mode&unix.S_IFMT|0o600, int(st.Rdev)); err != nil {
			err = &os.PathError{Op: "mknod", Path: dst, Err: err}
		}
	}
	if err == nil {
		err = setAttrs(src, dst, st)
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if st.Nlink > 1 {
		c.links[id] = &link{path: dst, tree: c.n, dst: c.dst, final: c.final, left: uint64(st.Nlink) - 1}
	}
	return nil
}

// copyFile copies a regular file's content into a new file, and keeps its holes: a
// sparse file (a disk image, a database's preallocated file: 100 MiB that hold a few KiB)
// would otherwise take its whole size on the copy's disk, and a restore could run out
// of space that the snapshot never needed.
func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = copyData(in, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyData copies in's data extents to the same offsets of out, found with
// SEEK_DATA and SEEK_HOLE, then sets out's size: what lies between them stays a hole.
// A filesystem without holes reports the whole file as data, so it is copied whole.
func copyData(in, out *os.File) error {
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	for off := int64(0); off < size; {
		data, err := in.Seek(off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // no data past off: the rest is a hole
		}
		if err != nil {
			return fmt.Errorf("finding data in %s: %w", in.Name(), err)
		}
		hole, err := in.Seek(data, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("finding a hole in %s: %w", in.Name(), err)
		}
		if _, err := in.Seek(data, io.SeekStart); err != nil {
			return err
		}
		if _, err := out.Seek(data, io.SeekStart); err != nil {
			return err
		}
		// Between *os.Files io.CopyN goes through copy_file_range(2) where it can.
		if _, err := io.CopyN(out, in, hole-data); err != nil {
			return fmt.Errorf("copying %s: %w", in.Name(), err)
		}
		off = hole
	}
	return out.Truncate(size)
}

// setAttrs gives dst the owner, extended attributes, mode and times of src. The owner
// goes first, as chown clears setuid, setgid and file capabilities; the mode after the
// attributes, as it may forbid writing them; the times last.
func setAttrs(src, dst string, st *unix.Stat_t) error {
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	symlink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if !symlink { // a symlink's mode means nothing and cannot be set
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return &os.PathError{Op: "chmod", Path: dst, Err: err}
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimes", Path: dst, Err: err}
	}
	return nil
}
