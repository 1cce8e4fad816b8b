package swap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/docker-backup/docker-backup/internal/atomicfile"
)

// Phases of a swap, as journaled. Each is written before its first change.
const (
	// phaseOut: the old top-level entries of Live (but kept ones) move to Rollback, and
	// the staged copies of kept paths are dropped.
	phaseOut = "out"
	// phaseIn: the staged top-level entries (but skipped ones) move into Live.
	phaseIn = "in"
	// phaseKeep: nested kept paths move back from Rollback into the new tree, and Live's
	// root takes the staged root's attributes.
	phaseKeep = "keep"
	// phaseRevertKeep, phaseRevertIn, phaseRevertOut undo keep, in and out, in that
	// order, after a failure.
	phaseRevertKeep = "revert-keep"
	phaseRevertIn   = "revert-in"
	phaseRevertOut  = "revert-out"
	// phaseDone and phaseReverted end a swap whose Plan.KeepJournal is set: Live holds
	// the new tree, or the old one put back.
	phaseDone     = "done"
	phaseReverted = "reverted"
)

// journalVersion is bumped when the journal's meaning changes.
const journalVersion = 1

// journal is what survives a crash: the plan, the phase, and what the steps ahead need
// but will have changed by then.
type journal struct {
	Version int    `json:"version"`
	Plan    Plan   `json:"plan"`
	Phase   string `json:"phase"`
	// Removing says every entry of the phase is at its destination, and the sources of
	// those that were copied are being removed.
	Removing bool `json:"removing,omitempty"`
	// LiveRoot is Live's root before the swap, put back by a revert.
	LiveRoot attrs `json:"live_root"`
	// StagedRoot is Staging's root before the swap (moving entries out changes its
	// times), given to Live's root at the end.
	StagedRoot attrs `json:"staged_root"`
	// Parents are the folders that hold nested kept paths in the new tree, as they are
	// before the swap (dropping staged copies and moving kept paths in change their
	// times); Create ones the new tree lacks and get the old tree's attributes.
	Parents []parent `json:"parents,omitempty"`
	// OldParents are the same folders in the old tree, before the swap: a revert puts
	// their attributes back after moving the kept paths back into them.
	OldParents []parent `json:"old_parents,omitempty"`
}

// attrs are the attributes of a folder that a swap restores.
type attrs struct {
	Mode  uint32 `json:"mode"` // st_mode permission bits, setuid, setgid, sticky
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Atime int64  `json:"atime_ns"`
	Mtime int64  `json:"mtime_ns"`
}

// parent is a folder of the new tree that holds a nested kept path, relative to Live.
// Create means the new tree lacks it and it is made like the old one.
type parent struct {
	Path   string `json:"path"`
	Create bool   `json:"create,omitempty"`
	Attrs  attrs  `json:"attrs"`
}

// statAttrs reads a folder's attributes without following a symlink.
func statAttrs(path string) (attrs, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return attrs{}, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return attrs{
		Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid),
		Atime: st.Atim.Nano(), Mtime: st.Mtim.Nano(),
	}, nil
}

// apply gives a folder the attributes, owner first (chown clears setuid and setgid).
func (a attrs) apply(path string) error {
	if err := os.Lchown(path, a.UID, a.GID); err != nil {
		return err
	}
	if err := unix.Chmod(path, a.Mode); err != nil {
		return &os.PathError{Op: "chmod", Path: path, Err: err}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(a.Atime), unix.NsecToTimespec(a.Mtime)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimes", Path: path, Err: err}
	}
	return nil
}

// writeJournal replaces the journal atomically and durably: a reader sees the old or the
// new one, whole, and after a crash the new one is there once this returned.
func writeJournal(path string, j *journal) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the journal: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	return nil
}

// readJournal reads a journal; a missing one is fs.ErrNotExist.
func readJournal(path string) (*journal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("reading the journal %s: %w", path, err)
	}
	if j.Version != journalVersion {
		return nil, fmt.Errorf("reading the journal %s: version %d, want %d", path, j.Version, journalVersion)
	}
	return &j, nil
}

// removeJournal ends a swap: without a journal there is nothing to resume.
func removeJournal(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the journal: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("removing the journal: %w", err)
	}
	return nil
}
