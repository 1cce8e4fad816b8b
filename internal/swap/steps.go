package swap

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// step runs one phase; resumed says it was interrupted.
func (s *swapper) step(j *journal, resumed bool) error {
	p := j.Plan
	switch j.Phase {
	case phaseOut:
		if err := s.dropKept(p); err != nil {
			return err
		}
		return s.transfer(j, resumed, s.pairs(j))
	case phaseIn, phaseRevertIn:
		return s.transfer(j, resumed, s.pairs(j))
	case phaseKeep:
		return s.keep(j, resumed)
	case phaseRevertKeep:
		return s.revertKeep(j, resumed)
	default:
		if err := s.transfer(j, resumed, s.pairs(j)); err != nil {
			return err
		}
		return s.apply(j.LiveRoot, p.Live)
	}
}

// pairs are the moves of a phase.
func (s *swapper) pairs(j *journal) pairs {
	p := j.Plan
	top, nested, _ := p.keeps()
	switch j.Phase {
	case phaseOut:
		return entries(p.Live, p.Rollback, inSet(top))
	case phaseIn:
		skip := p.skips()
		maps.Copy(skip, top)
		return entries(p.Staging, p.Live, func(n string) bool { return skip[n] || p.journalTemp(n) })
	case phaseKeep:
		return kept(nested, p.Rollback, p.Live)
	case phaseRevertKeep:
		return kept(reversed(nested), p.Live, p.Rollback)
	case phaseRevertIn:
		return entries(p.Live, p.Staging, inSet(top))
	}
	return entries(p.Rollback, p.Live, inSet(nil))
}

// entries are the moves of every entry of from, but the names except holds, to the same
// name in to.
func entries(from, to string, except func(name string) bool) pairs {
	return func(fn func(src, dst string) (bool, error)) error {
		return forEach(from, func(n string) (bool, error) {
			if except(n) {
				return false, nil
			}
			return fn(filepath.Join(from, n), filepath.Join(to, n))
		})
	}
}

// kept are the moves of the nested kept paths that from holds, to the same place in to
// where the folder to hold them is there.
func kept(nested []string, from, to string) pairs {
	return func(fn func(src, dst string) (bool, error)) error {
		for _, k := range nested {
			ok, err := inside(from, k)
			if err == nil && ok {
				ok, err = isDir(to, filepath.Dir(k))
			}
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if _, err := fn(filepath.Join(from, k), filepath.Join(to, k)); err != nil {
				return err
			}
		}
		return nil
	}
}

// dropKept removes the staged copies of kept paths.
func (s *swapper) dropKept(p Plan) error {
	top, nested, _ := p.keeps()
	for _, k := range append(slices.Sorted(maps.Keys(top)), nested...) {
		if ok, err := inside(p.Staging, k); err != nil {
			return err
		} else if ok {
			if err := s.removeAll(filepath.Join(p.Staging, k)); err != nil {
				return fmt.Errorf("dropping the staged copy of kept path %s: %w", k, err)
			}
		}
	}
	return nil
}

// keep moves the nested kept paths from the old tree in Rollback into the new one in
// Live, making the folders on their way that the new tree lacks like the old ones, and
// gives those folders and Live's root their journaled attributes.
func (s *swapper) keep(j *journal, resumed bool) error {
	p := j.Plan
	for _, par := range j.Parents {
		dst := filepath.Join(p.Live, par.Path)
		if ok, err := lexists(dst); err != nil || ok || !par.Create {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.do("mkdir", dst); err != nil {
			return err
		}
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
	}
	if err := s.transfer(j, resumed, s.pairs(j)); err != nil {
		return err
	}
	for _, par := range slices.Backward(j.Parents) {
		if err := s.apply(par.Attrs, filepath.Join(p.Live, par.Path)); err != nil {
			return err
		}
	}
	return s.apply(j.StagedRoot, p.Live)
}

// revertKeep moves the nested kept paths back into the old tree, removes the folders
// made for them, and puts the old tree's folders' attributes back.
func (s *swapper) revertKeep(j *journal, resumed bool) error {
	p := j.Plan
	if err := s.transfer(j, resumed, s.pairs(j)); err != nil {
		return err
	}
	for _, par := range slices.Backward(j.Parents) {
		if !par.Create {
			continue
		}
		dst := filepath.Join(p.Live, par.Path)
		if err := s.do("rmdir", dst); err != nil {
			return err
		}
		// One still holding something is moved to Staging with the rest of the new tree.
		if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			return err
		}
	}
	for _, par := range slices.Backward(j.OldParents) {
		if err := s.apply(par.Attrs, filepath.Join(p.Rollback, par.Path)); err != nil {
			return err
		}
	}
	return nil
}

// apply gives a folder attributes, as a step.
func (s *swapper) apply(a attrs, path string) error {
	if err := s.do("set attributes", path); err != nil {
		return err
	}
	return a.apply(path)
}

func reversed(list []string) []string {
	r := slices.Clone(list)
	slices.Reverse(r)
	return r
}

// inSet holds the names of set.
func inSet(set map[string]bool) func(string) bool {
	return func(n string) bool { return set[n] }
}
