package swap

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// SwapFile replaces the content of the regular file live with that of staged in place:
// live keeps its inode, which a service's bind mount of the single file holds, and takes
// staged's owner, mode, times and extended attributes (live's other extended attributes
// stay). First the previous file is copied faithfully to rollback (a path that must not
// exist, made durable before live is touched).
//
// A failure before live is truncated is an *Error with ErrUnchanged; after, the previous
// content is written back from rollback (ErrRolledBack) or, failing that, ErrMixed
// naming live and rollback. A rewrite in place cannot be atomic: if the process dies
// while writing, live may be partly written, and the caller puts it back with
// SwapFile(live, rollback, another path) or finishes it with SwapFile(live, staged, …).
func SwapFile(live, staged, rollback string) error {
	return newSwapper().swapFile(live, staged, rollback)
}

func (s *swapper) swapFile(live, staged, rollback string) error {
	for _, p := range []string{live, staged} {
		fi, err := os.Lstat(p)
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s: not a regular file", p)
		}
		if err != nil {
			return &Error{State: ErrUnchanged, Err: fmt.Errorf("preparing the file swap: %w", err)}
		}
	}
	if err := s.do("copy", live); err != nil {
		return &Error{State: ErrUnchanged, Err: err}
	}
	if err := CopyTree(live, rollback); err != nil {
		return &Error{State: ErrUnchanged, Err: fmt.Errorf("copying %s to the rollback file: %w", live, err)}
	}
	if err := syncFS(rollback); err != nil {
		return &Error{State: ErrUnchanged, Err: err}
	}
	err := s.rewrite(live, staged)
	if err == nil {
		return nil
	}
	if rerr := s.rewrite(live, rollback); rerr != nil {
		return &Error{State: ErrMixed, Paths: []string{live, rollback}, Err: fmt.Errorf("%w; writing the previous content back: %w", err, rerr)}
	}
	return &Error{State: ErrRolledBack, Err: err}
}

// rewrite writes the content and attributes of from into the existing file to.
func (s *swapper) rewrite(to, from string) error {
	var st unix.Stat_t
	if err := unix.Lstat(from, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: from, Err: err}
	}
	in, err := os.OpenFile(from, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := s.do("truncate", to); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_TRUNC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	err = s.do("write", to)
	if err == nil {
		_, err = io.Copy(out, in)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", to, err)
	}
	if err := s.do("set attributes", to); err != nil {
		return err
	}
	if err := setAttrs(from, to, &st); err != nil {
		return fmt.Errorf("writing %s: %w", to, err)
	}
	return nil
}
