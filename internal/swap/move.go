package swap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// tmpName is the name a copied entry has in its destination folder until it is whole.
// It is reserved: a live folder holding it is refused, and a staged one is skipped.
const tmpName = ".docker-backup-swap.partial"

// swapper runs swaps. Its fields are seams for tests; the zero value is not usable, use
// newSwapper.
type swapper struct {
	// rename moves an entry; tests make it fail with EXDEV to force the copy.
	rename func(oldpath, newpath string) error
	// hook is called before every change, with what it is about to do; tests fail or
	// delay the Nth one.
	hook func(op string) error
	// crash makes a failed step end the run at once, without putting anything back, as
	// SIGKILL would: tests then call Resume.
	crash bool
	// copier copies entries that cannot be renamed; one per phase.
	copier *copier
	// copied says a phase's pass made or met a copy whose source is still to remove.
	copied bool
}

// newSwapper gives a swapper that renames with rename(2) and has no test hooks.
func newSwapper() *swapper {
	return &swapper{rename: os.Rename, copier: newCopier()}
}

// errCrash marks the failure of a step under swapper.crash: nothing more is done.
var errCrash = errors.New("simulated crash")

// do reports a change about to happen to the test hook.
func (s *swapper) do(op string, path string) error {
	if s.hook == nil {
		return nil
	}
	if err := s.hook(op + " " + path); err != nil {
		if s.crash {
			return fmt.Errorf("%w: %w", errCrash, err)
		}
		return err
	}
	return nil
}

// move puts src at dst, checkably: when src is gone, it was done before; when both are
// there, dst is a whole copy (it got its name by a rename after the copy) and only the
// removal of src is left. It tells whether it changed anything.
//
// With keepSrc, a copy (on EXDEV) leaves src in place and both being there is left as
// it is, for a later pass to remove the sources once every entry is copied: until then
// the sources stay whole, hard links between them too, so a failure is undone by
// dropping the copies, and after a crash the copies are dropped and made again by one
// copier, which keeps the links between them.
func (s *swapper) move(src, dst string, keepSrc bool) (bool, error) {
	srcOK, err := lexists(src)
	if err != nil || !srcOK {
		return false, err
	}
	dstOK, err := lexists(dst)
	if err != nil {
		return false, err
	}
	if dstOK && keepSrc {
		s.copied = true
		return false, nil
	}
	if dstOK {
		return true, s.removeAll(src)
	}
	if err := s.do("rename", src); err != nil {
		return false, err
	}
	err = s.rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return true, err
	}
	if err := s.copy(src, dst); err != nil {
		return false, err
	}
	if keepSrc {
		s.copied = true
		return true, nil
	}
	return true, s.removeAll(src)
}

// copy copies src to dst under a temporary name first, so dst is there only when whole
// (durable only after transfer's syncfs).
func (s *swapper) copy(src, dst string) error {
	tmp := filepath.Join(filepath.Dir(dst), tmpName)
	if err := s.do("copy", src); err != nil {
		return err
	}
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := s.copier.tree(src, tmp, dst); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("copying %s to another filesystem: %w", src, err)
	}
	if err := s.do("rename copy", dst); err != nil {
		return err
	}
	return os.Rename(tmp, dst) // same folder: never EXDEV
}

// pairs calls fn with each source and destination of a phase's moves; fn tells whether
// it changed anything.
type pairs func(fn func(src, dst string) (bool, error)) error

// transfer runs a forward phase's moves: rename where possible; else copy all, journal
// that the sources are to be removed, and remove them. resumed says the phase was
// interrupted: copies left by it without that journal entry are dropped first.
func (s *swapper) transfer(j *journal, resumed bool, each pairs) error {
	if !j.Removing {
		if resumed {
			err := each(func(src, dst string) (bool, error) {
				if ok, err := lexists(src); err != nil || !ok {
					return false, err
				}
				return false, s.removeAll(dst)
			})
			if err != nil {
				return err
			}
		}
		s.copied = false
		if err := each(func(src, dst string) (bool, error) { return s.move(src, dst, true) }); err != nil {
			return err
		}
		if !s.copied {
			return nil
		}
		// The copies must be durable before a source is removed; once, not per copy.
		for _, d := range []string{j.Plan.Live, j.Plan.Staging, j.Plan.Rollback} {
			if err := syncFS(d); err != nil {
				return err
			}
		}
		j.Removing = true
		if err := s.transition(j); err != nil {
			j.Removing = false // as journaled: a failure drops the copies
			return err
		}
	}
	return each(func(src, dst string) (bool, error) { return s.move(src, dst, false) })
}

// removeAll removes an entry and what it holds, if it is there.
func (s *swapper) removeAll(path string) error {
	if err := s.do("remove", path); err != nil {
		return err
	}
	return os.RemoveAll(path)
}
