package swap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// forEach calls fn with the names in dir, read in batches so any number of them is fine,
// and reads dir again until a pass changes nothing: entries moved out while a folder is
// read may make the read skip others.
func forEach(dir string, fn func(name string) (bool, error)) error {
	for {
		changed, err := forEachOnce(dir, fn)
		if err != nil || !changed {
			return err
		}
	}
}

func forEachOnce(dir string, fn func(name string) (bool, error)) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	changed := false
	for {
		names, err := f.Readdirnames(512)
		for _, n := range names {
			c, err := fn(n)
			if err != nil {
				return changed, err
			}
			changed = changed || c
		}
		if errors.Is(err, io.EOF) {
			return changed, nil
		}
		if err != nil {
			return changed, fmt.Errorf("reading %s: %w", dir, err)
		}
	}
}

// lexists tells whether path is there, without following a final symlink.
func lexists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return false, nil
	}
	return false, err
}

// inside tells whether root/rel is there with every folder on the way a real folder (not
// a symlink), so a change to it stays inside root.
func inside(root, rel string) (bool, error) {
	p := root
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if i < len(parts)-1 && !fi.IsDir() {
			return false, nil
		}
	}
	return true, nil
}

// isDir tells whether root/rel is a real folder reached through real folders.
func isDir(root, rel string) (bool, error) {
	ok, err := inside(root, rel)
	if !ok || err != nil {
		return false, err
	}
	fi, err := os.Lstat(filepath.Join(root, rel))
	return err == nil && fi.IsDir(), err
}

// prefixes gives the folders on the way to rel: "a/b/c" gives "a", "a/b".
func prefixes(rel string) []string {
	var out []string
	for i := range len(rel) {
		if rel[i] == '/' {
			out = append(out, rel[:i])
		}
	}
	return out
}

// syncFS makes what was written to the filesystem holding path (a folder or a regular
// file) durable.
func syncFS(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return &os.PathError{Op: "syncfs", Path: path, Err: err}
	}
	return nil
}
