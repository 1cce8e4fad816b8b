package swap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/docker-backup/docker-backup/internal/atomicfile"
)

// FilePlan is the journaled swap of a bind-mounted file (see SwapFileJournaled).
type FilePlan struct {
	// Live is the file rewritten in place; Staged holds the new content; Rollback is
	// where the previous content is copied (a path that must not exist at the start).
	Live     string `json:"live"`
	Staged   string `json:"staged"`
	Rollback string `json:"rollback"`
	// Journal records the swap's phase; it stays at the end (done or reverted).
	Journal string `json:"journal"`
}

// Phases of a file swap, as journaled.
const (
	fileAside  = "aside"  // copying Live to Rollback: Live untouched
	fileWrite  = "write"  // rewriting Live from Staged: Rollback whole
	fileRevert = "revert" // rewriting Live from Rollback
)

// fileJournal is what survives a crash of a file swap.
type fileJournal struct {
	Version int      `json:"version"`
	Plan    FilePlan `json:"plan"`
	Phase   string   `json:"phase"`
}

// SwapFileJournaled is SwapFile with a journal, so that a swap killed at any point is
// finished by ResumeFile or undone by RevertFile, and its state is always known: no
// journal means never begun (Live untouched); phase done means Live holds the new
// content, reverted the previous one. A journal already there is refused.
func SwapFileJournaled(p FilePlan) error {
	s := newSwapper()
	if ok, err := lexists(p.Journal); err != nil || ok {
		return &Error{State: ErrUnchanged, Err: errors.Join(err, fmt.Errorf("journal %s: a swap was begun there", p.Journal))}
	}
	for _, f := range []string{p.Live, p.Staged} {
		fi, err := os.Lstat(f)
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s: not a regular file", f)
		}
		if err != nil {
			return &Error{State: ErrUnchanged, Err: fmt.Errorf("preparing the file swap: %w", err)}
		}
	}
	return s.fileFrom(p, fileAside)
}

// ResumeFile finishes the file swap its journal records; a missing journal is an
// error matching fs.ErrNotExist (never begun). The journal must be p's.
func ResumeFile(p FilePlan) error {
	j, err := readFileJournal(p)
	if err != nil {
		return err
	}
	return newSwapper().fileFrom(p, j.Phase)
}

// RevertFile puts back the previous content of a file whose swap was begun: Live is
// rewritten from Rollback. A swap still copying Live aside never touched it and ends
// reverted at once; one never begun is an error matching fs.ErrNotExist.
func RevertFile(p FilePlan) error {
	j, err := readFileJournal(p)
	if err != nil {
		return err
	}
	s := newSwapper()
	switch j.Phase {
	case phaseReverted:
		return nil
	case fileAside:
		_ = os.Remove(p.Rollback)
		return writeFileJournal(p, phaseReverted)
	}
	err = s.fileFrom(p, fileRevert)
	if errors.Is(err, ErrRolledBack) {
		return nil
	}
	return err
}

// fileFrom runs the file swap from a phase on.
func (s *swapper) fileFrom(p FilePlan, phase string) error {
	switch phase {
	case phaseDone:
		return nil
	case phaseReverted:
		return &Error{State: ErrRolledBack, Err: errors.New("the file swap had failed and was put back")}
	case fileAside:
		if err := writeFileJournal(p, fileAside); err != nil {
			return &Error{State: ErrUnchanged, Err: err}
		}
		if err := os.Remove(p.Rollback); err != nil && !errors.Is(err, os.ErrNotExist) {
			return &Error{State: ErrUnchanged, Err: err}
		}
		if err := s.do("copy", p.Live); err != nil {
			return &Error{State: ErrUnchanged, Err: err}
		}
		if err := CopyTree(p.Live, p.Rollback); err != nil {
			return &Error{State: ErrUnchanged, Err: fmt.Errorf("copying %s to the rollback file: %w", p.Live, err)}
		}
		if err := syncFS(p.Rollback); err != nil {
			return &Error{State: ErrUnchanged, Err: err}
		}
		fallthrough
	case fileWrite:
		if err := writeFileJournal(p, fileWrite); err != nil {
			return &Error{State: ErrUnchanged, Err: err}
		}
		err := s.rewrite(p.Live, p.Staged)
		if err == nil {
			if err := writeFileJournal(p, phaseDone); err != nil {
				return &Error{State: ErrMixed, Paths: []string{p.Live, p.Rollback}, Err: err}
			}
			return nil
		}
		if rerr := s.revertFile(p); rerr != nil {
			return &Error{State: ErrMixed, Paths: []string{p.Live, p.Rollback}, Err: fmt.Errorf("%w; writing the previous content back: %w", err, rerr)}
		}
		return &Error{State: ErrRolledBack, Err: err}
	case fileRevert:
		if err := s.revertFile(p); err != nil {
			return &Error{State: ErrMixed, Paths: []string{p.Live, p.Rollback}, Err: fmt.Errorf("writing the previous content back: %w", err)}
		}
		return &Error{State: ErrRolledBack, Err: errors.New("resuming a file swap that had failed")}
	}
	return fmt.Errorf("journal %s: unknown phase %q", p.Journal, phase)
}

// revertFile journals the revert, rewrites Live from Rollback and journals the end.
func (s *swapper) revertFile(p FilePlan) error {
	if err := writeFileJournal(p, fileRevert); err != nil {
		return err
	}
	if err := s.rewrite(p.Live, p.Rollback); err != nil {
		return err
	}
	return writeFileJournal(p, phaseReverted)
}

func writeFileJournal(p FilePlan, phase string) error {
	b, err := json.Marshal(fileJournal{Version: journalVersion, Plan: p, Phase: phase})
	if err != nil {
		return fmt.Errorf("encoding the journal: %w", err)
	}
	if err := atomicfile.WriteFile(p.Journal, b, 0o600); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	return nil
}

// readFileJournal reads p's journal; a missing one matches fs.ErrNotExist, one of
// another swap is refused.
func readFileJournal(p FilePlan) (*fileJournal, error) {
	b, err := os.ReadFile(p.Journal)
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	var j fileJournal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("reading the journal %s: %w", p.Journal, err)
	}
	if j.Version != journalVersion || j.Plan != p {
		return nil, fmt.Errorf("the journal %s is not the journal of this file swap: refused, nothing changed", p.Journal)
	}
	return &j, nil
}
