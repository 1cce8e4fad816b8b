package swap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Swap replaces the content of p.Live with the content of p.Staging, moving the previous
// content into p.Rollback; see the package doc for the steps and guarantees. It returns
// nil once Live holds exactly the new tree (and the journal is removed), or an *Error
// whose State (ErrUnchanged, ErrRolledBack, ErrMixed) says what Live holds.
func Swap(p Plan) error {
	return newSwapper().swap(p)
}

// Resume finishes the swap that the journal at path records, after the process running
// it died. It returns nil once Live holds exactly the new tree. By journaled phase:
//
//   - out (old entries moving to Rollback), in (staged entries moving into Live), keep
//     (nested kept paths moving back, attributes of their folders and of Live's root):
//     the swap goes on forward. Copies the dead process left are dropped and made again,
//     unless the journal says their sources were being removed: then the removal is
//     finished. Should a step fail now, what was done is put back as Swap does, and the
//     error says ErrUnchanged (from phase out) or ErrRolledBack.
//   - revert-keep, revert-in, revert-out (a failed swap was putting the previous content
//     back): the revert goes on, and Resume returns an *Error with State ErrRolledBack
//     once Live holds exactly the old tree.
//
// A missing journal is an error matching fs.ErrNotExist: no swap was interrupted after
// its first change (Live holds whatever the last swap left, old or new, whole). After an
// ErrMixed from Swap or Resume the journal is kept, and Resume brings Live to one whole
// tree: the old one if the revert had been journaled, else the new one.
//
// The journal must be the one of p, the swap the caller means: a journal whose plan
// differs in any field is refused before any change, so the journal's content never
// chooses what is touched.
func Resume(p Plan) error {
	j, err := readJournal(p.Journal)
	if err != nil {
		return err
	}
	if !samePlan(j.Plan, p) {
		return fmt.Errorf("the journal %s is not the journal of this swap: refused, nothing changed", p.Journal)
	}
	return newSwapper().run(j, true)
}

// Begun tells whether the swap of p has a journal: false means it never made a change.
func Begun(p Plan) (bool, error) { return lexists(p.Journal) }

// samePlan compares two plans field by field.
func samePlan(a, b Plan) bool {
	return a.Live == b.Live && a.Staging == b.Staging && a.Rollback == b.Rollback && a.Journal == b.Journal &&
		slices.Equal(a.Keep, b.Keep) && slices.Equal(a.Skip, b.Skip) && a.Marker == b.Marker && a.Nonce == b.Nonce &&
		a.KeepJournal == b.KeepJournal
}

func (s *swapper) swap(p Plan) error {
	j, err := s.prepare(p)
	if err != nil {
		return &Error{State: ErrUnchanged, Err: fmt.Errorf("preparing the swap: %w", err)}
	}
	return s.run(j, false)
}

func (s *swapper) resume(path string) error {
	j, err := readJournal(path)
	if err != nil {
		return err
	}
	if filepath.Clean(j.Plan.Journal) != filepath.Clean(path) {
		return fmt.Errorf("reading the journal %s: it is the journal of %s", path, j.Plan.Journal)
	}
	return s.run(j, true)
}

// prepare checks everything that can be checked before a change, and writes the journal.
func (s *swapper) prepare(p Plan) (*journal, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	for _, d := range []string{p.Live, p.Staging, p.Rollback} {
		fi, err := os.Lstat(d)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: not a folder", d)
		}
	}
	if ok, err := lexists(p.Journal); err != nil || ok {
		return nil, errors.Join(err, fmt.Errorf("journal %s: a swap was interrupted there: resume it first", p.Journal))
	}
	if err := empty(p.Rollback); err != nil {
		return nil, err
	}
	if ok, err := lexists(filepath.Join(p.Live, tmpName)); err != nil || ok {
		return nil, errors.Join(err, fmt.Errorf("%s: holds the reserved name %s", p.Live, tmpName))
	}
	if p.Marker != "" {
		b, err := os.ReadFile(filepath.Join(p.Staging, p.Marker))
		if err != nil || string(b) != p.Nonce {
			return nil, fmt.Errorf("%s: %w", p.Staging, ErrNotStaged)
		}
	}
	j := &journal{Version: journalVersion, Plan: p, Phase: phaseOut}
	var err error
	if j.LiveRoot, err = statAttrs(p.Live); err != nil {
		return nil, err
	}
	if j.StagedRoot, err = statAttrs(p.Staging); err != nil {
		return nil, err
	}
	if j.Parents, j.OldParents, err = parents(p); err != nil {
		return nil, err
	}
	if err := s.do("write journal", p.Journal); err != nil {
		return nil, err
	}
	return j, writeJournal(p.Journal, j)
}

// parents records the folders on the way to the nested kept paths, as they are before
// the swap (dropping staged copies and moving kept paths change their times): in the new
// tree (or, where it lacks them, in the old one: Create) and in the old tree. It refuses
// a plan whose new tree has something other than a folder where a kept path must go.
func parents(p Plan) (newTree, oldTree []parent, err error) {
	_, nested, _ := p.keeps()
	seenNew, seenOld := map[string]bool{}, map[string]bool{}
	for _, k := range nested {
		live, err := inside(p.Live, k)
		if err != nil {
			return nil, nil, err
		}
		staged, err := inside(p.Staging, k)
		if err != nil {
			return nil, nil, err
		}
		if !live && !staged {
			continue
		}
		for _, d := range prefixes(k) {
			if live && !seenOld[d] {
				seenOld[d] = true
				a, err := statAttrs(filepath.Join(p.Live, d))
				if err != nil {
					return nil, nil, err
				}
				oldTree = append(oldTree, parent{Path: d, Attrs: a})
			}
			if seenNew[d] {
				continue
			}
			dir, err := isDir(p.Staging, d)
			if err != nil {
				return nil, nil, err
			}
			switch there, err := lexists(filepath.Join(p.Staging, d)); {
			case err != nil:
				return nil, nil, err
			case dir:
				a, err := statAttrs(filepath.Join(p.Staging, d))
				if err != nil {
					return nil, nil, err
				}
				newTree = append(newTree, parent{Path: d, Attrs: a})
			case there && live:
				return nil, nil, fmt.Errorf("kept path %s: %s is not a folder in the staged content", k, d)
			case live:
				a, err := statAttrs(filepath.Join(p.Live, d))
				if err != nil {
					return nil, nil, err
				}
				newTree = append(newTree, parent{Path: d, Create: true, Attrs: a})
			default:
				continue
			}
			seenNew[d] = true
		}
	}
	return newTree, oldTree, nil
}

// empty refuses a folder that holds anything.
func empty(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if len(names) > 0 {
		return fmt.Errorf("rollback folder %s: not empty", dir)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	return nil
}

// Status is how far a journaled swap got, as its journal says.
type Status int

// The statuses of a swap whose Plan.KeepJournal (or a FilePlan's journal) is set.
const (
	// NotBegun: no journal, so no change was made.
	NotBegun Status = iota
	// InProgress: the swap, or its revert, was interrupted: Resume finishes it.
	InProgress
	// Done: Live holds the new tree.
	Done
	// Reverted: the swap failed and Live holds the old tree again.
	Reverted
)

// StatusOf reads how far the swap of p got; a journal of another swap is an error.
func StatusOf(p Plan) (Status, error) {
	j, err := readJournal(p.Journal)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NotBegun, nil
	case err != nil:
		return NotBegun, err
	case !samePlan(j.Plan, p):
		return NotBegun, fmt.Errorf("the journal %s is not the journal of this swap", p.Journal)
	}
	return statusOfPhase(j.Phase), nil
}

// FileStatusOf reads how far the file swap of p got.
func FileStatusOf(p FilePlan) (Status, error) {
	j, err := readFileJournal(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NotBegun, nil
	case err != nil:
		return NotBegun, err
	}
	return statusOfPhase(j.Phase), nil
}

func statusOfPhase(phase string) Status {
	switch phase {
	case phaseDone:
		return Done
	case phaseReverted:
		return Reverted
	}
	return InProgress
}
