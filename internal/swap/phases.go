package swap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/docker-backup/docker-backup/internal/atomicfile"
)

// nextPhase is the phase after another ("" ends the swap, or its revert).
func nextPhase(phase string) string {
	switch phase {
	case phaseOut:
		return phaseIn
	case phaseIn:
		return phaseKeep
	case phaseRevertKeep:
		return phaseRevertIn
	case phaseRevertIn:
		return phaseRevertOut
	}
	return ""
}

// revertOf is the revert phase that undoes what a forward phase had done so far.
func revertOf(phase string) string {
	switch phase {
	case phaseOut:
		return phaseRevertOut
	case phaseIn:
		return phaseRevertIn
	}
	return phaseRevertKeep
}

// run goes through the phases from the journaled one; a failed forward phase is undone
// (see Resume). resumed says the run picks up a dead one.
func (s *swapper) run(j *journal, resumed bool) error {
	p := j.Plan
	mixed := []string{p.Live, p.Rollback, p.Staging}
	switch j.Phase {
	case phaseDone:
		return nil
	case phaseReverted:
		return &Error{State: ErrRolledBack, Err: errors.New("the swap had failed and was put back")}
	case phaseOut, phaseIn, phaseKeep:
	case phaseRevertKeep, phaseRevertIn, phaseRevertOut:
		if err := s.phases(j, true); err != nil {
			return &Error{State: ErrMixed, Paths: mixed, Err: fmt.Errorf("putting the previous content back: %w", err)}
		}
		return &Error{State: ErrRolledBack, Err: errors.New("resuming a swap that had failed")}
	default:
		return fmt.Errorf("journal %s: unknown phase %q", p.Journal, j.Phase)
	}
	err := s.phases(j, resumed)
	if err == nil || errors.Is(err, errCrash) {
		return err
	}
	state := ErrRolledBack
	if j.Phase == phaseOut {
		state = ErrUnchanged
	}
	if rerr := s.settle(j); rerr != nil {
		return &Error{State: ErrMixed, Paths: mixed, Err: fmt.Errorf("%w; putting the previous content back: %w", err, rerr)}
	}
	j.Phase, j.Removing = revertOf(j.Phase), false
	rerr := s.transition(j)
	if rerr == nil {
		rerr = s.phases(j, false)
	}
	if rerr != nil {
		return &Error{State: ErrMixed, Paths: mixed, Err: fmt.Errorf("%w; putting the previous content back: %w", err, rerr)}
	}
	return &Error{State: state, Err: err}
}

// phases runs the journaled phase and those after it, ending with the journal removed.
// On a failure j holds the phase that failed.
func (s *swapper) phases(j *journal, resumed bool) error {
	for {
		s.clean(j.Plan)
		s.copier = newCopier()
		if err := s.step(j, resumed); err != nil {
			return err
		}
		resumed = false
		next := nextPhase(j.Phase)
		if next == "" {
			return s.finish(j)
		}
		phase := j.Phase
		j.Phase, j.Removing = next, false
		if err := s.transition(j); err != nil {
			j.Phase = phase
			return err
		}
	}
}

// finish ends the swap's journal: removed, or with Plan.KeepJournal its final phase,
// done after the forward phases and reverted after a revert.
func (s *swapper) finish(j *journal) error {
	if !j.Plan.KeepJournal {
		return removeJournal(j.Plan.Journal)
	}
	final := phaseDone
	if j.Phase == phaseRevertOut {
		final = phaseReverted
	}
	phase := j.Phase
	j.Phase, j.Removing = final, false
	if err := s.transition(j); err != nil {
		j.Phase = phase
		return err
	}
	return nil
}

// settle makes each move of a failed forward phase either done or not done before it is
// reverted: before the sources were being removed, copies are dropped; after, the
// removal is finished, so the revert copies every entry back with one copier and hard
// links between them stay links.
func (s *swapper) settle(j *journal) error {
	return s.pairs(j)(func(src, dst string) (bool, error) {
		srcOK, err := lexists(src)
		if err != nil || !srcOK {
			return false, err
		}
		if dstOK, err := lexists(dst); err != nil || !dstOK {
			return false, err
		}
		if j.Removing {
			return true, s.removeAll(src) // true: read the folder again
		}
		return false, s.removeAll(dst)
	})
}

// transition makes the moves so far durable, then journals the phase j now has.
func (s *swapper) transition(j *journal) error {
	p := j.Plan
	for _, d := range []string{p.Live, p.Staging, p.Rollback} {
		if err := atomicfile.SyncDir(d); err != nil {
			return fmt.Errorf("syncing %s: %w", d, err)
		}
	}
	if err := s.do("write journal", p.Journal); err != nil {
		return err
	}
	return writeJournal(p.Journal, j)
}

// clean removes what an interrupted copy left at the top of the three folders (the
// reserved name cannot be anything else there).
func (s *swapper) clean(p Plan) {
	for _, d := range []string{p.Live, p.Staging, p.Rollback} {
		_ = os.RemoveAll(filepath.Join(d, tmpName))
	}
}
