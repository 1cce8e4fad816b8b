package swap

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// copyXattrs gives dst the extended attributes of src (user.*, security.*, trusted.*,
// POSIX ACLs: whatever the process may read and write), neither following a symlink. A
// filesystem without extended attributes, on either side, is not an error.
func copyXattrs(src, dst string) error {
	names, err := listXattrs(src)
	if err != nil {
		return fmt.Errorf("listing the extended attributes of %s: %w", src, err)
	}
	for _, name := range names {
		val, err := getXattr(src, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed since it was listed
		}
		if err != nil {
			return fmt.Errorf("reading extended attribute %s of %s: %w", name, src, err)
		}
		err = unix.Lsetxattr(dst, name, val, 0)
		if err != nil && !unsupported(err) {
			return fmt.Errorf("setting extended attribute %s of %s: %w", name, dst, err)
		}
	}
	return nil
}

// unsupported tells whether an xattr call failed because the filesystem (or, for user.*
// on a symlink, the kind of file) has none.
func unsupported(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP)
}

// listXattrs lists the names of the extended attributes of path; none where the
// filesystem has none.
func listXattrs(path string) ([]string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Llistxattr(path, buf)
		switch {
		case unsupported(err):
			return nil, nil
		case errors.Is(err, unix.ERANGE):
			size, err := unix.Llistxattr(path, nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, max(size, 2*len(buf)))
			continue
		case err != nil:
			return nil, err
		}
		var names []string
		for _, b := range bytes.Split(buf[:n], []byte{0}) {
			if len(b) > 0 {
				names = append(names, string(b))
			}
		}
		return names, nil
	}
}

// getXattr reads one extended attribute of path.
func getXattr(path, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(path, name, buf)
		if errors.Is(err, unix.ERANGE) {
			size, err := unix.Lgetxattr(path, name, nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, max(size, 2*len(buf)))
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}
