package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker-backup/docker-backup/swap"
)

// Exit codes of `agent swap`. With SwapPutBackFailed and SwapNotStaged the agent prints
// the numbers of the mounts concerned on its standard output.
const (
	SwapUnchanged     = 2 // nothing was replaced: the live content is unchanged
	SwapPutBack       = 3 // replacing failed; the previous content was put back
	SwapPutBackFailed = 4 // replacing failed and so did putting the previous content back
	SwapNotStaged     = 5 // a staging folder lacks this restore's marker: live untouched
)

// SwapSpec is what `agent swap` replaces: each mount's live content by its staged one,
// the previous content moved to its rollback folder. Every marker is checked before
// anything changes; a failure puts back what was replaced.
type SwapSpec struct {
	Nonce  string      `json:"nonce"`
	Mounts []SwapMount `json:"mounts"`
	// Helper is how the swap helper mounts what it swaps: a swap that was killed is
	// resumed by a helper that mounts the same (see Pending).
	Helper []HelperMount `json:"helper,omitempty"`
}

// HelperMount is one mount of a helper, as saved with a swap.
type HelperMount struct {
	Type     string `json:"type"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// SwapMount is one mount of the service. For a bind-mounted file, Live is the file, and
// Staging and Rollback are folders holding (or to hold) the file Base.
type SwapMount struct {
	File     bool     `json:"file,omitempty"`
	Base     string   `json:"base,omitempty"`
	Live     string   `json:"live"`
	Staging  string   `json:"staging"`
	Rollback string   `json:"rollback"`
	Keep     []string `json:"keep,omitempty"`
}

// SwapJournal is the name of a swap's journal in the staging folder of its mount.
func SwapJournal(nonce string) string { return ".docker-backup-swap-" + nonce + ".json" }

// SwapSaved is the name of the copy of a swap's spec in each staging folder, written
// before the first change: what resuming a killed swap needs.
func SwapSaved(nonce string) string { return ".docker-backup-swap-" + nonce + ".spec" }

// plan is the swap.Plan of a folder mount.
func (m SwapMount) plan(nonce string) swap.Plan {
	return swap.Plan{
		Live: m.Live, Staging: m.Staging, Rollback: m.Rollback,
		Journal: filepath.Join(m.Staging, SwapJournal(nonce)),
		Keep:    m.Keep, Skip: []string{SwapJournal(nonce), SwapSaved(nonce)},
		Marker: StagedMarker(nonce), Nonce: nonce,
	}
}

// swapCommand runs the swap of a restore, or with --resume finishes one that was
// killed (Pending found it).
func swapCommand(_ context.Context, args []string, s Streams) error {
	resume := len(args) > 0 && args[0] == "--resume"
	if resume {
		args = args[1:]
	}
	var spec SwapSpec
	if err := readSpec("swap", args, &spec); err != nil {
		return err
	}
	if resume {
		return resumeSwap(spec)
	}
	for i, m := range spec.Mounts {
		got, err := os.ReadFile(filepath.Join(m.Staging, StagedMarker(spec.Nonce)))
		if err != nil || string(got) != spec.Nonce {
			fmt.Fprintln(s.Out, i)
			return failWith(SwapNotStaged, "the staging folder of mount %d lacks this restore's marker", i)
		}
	}
	if err := saveSpec(spec); err != nil {
		return failWith(SwapUnchanged, "%w", err)
	}
	for i, m := range spec.Mounts {
		err := swapOne(m, spec.Nonce)
		if err == nil {
			continue
		}
		undoFailed := undo(spec, i)
		switch {
		case errors.Is(err, swap.ErrMixed) || len(undoFailed) > 0:
			for _, n := range append(undoFailed, i) {
				if n != i || errors.Is(err, swap.ErrMixed) {
					fmt.Fprintln(s.Out, n)
				}
			}
			return failWith(SwapPutBackFailed, "replacing the live content failed and so did putting the previous content back: %w", err)
		case errors.Is(err, swap.ErrUnchanged) && i == 0:
			return failWith(SwapUnchanged, "replacing the live content failed: %w", err)
		}
		return failWith(SwapPutBack, "replacing the live content failed; the previous content was put back: %w", err)
	}
	return nil
}

// swapOne swaps one mount.
func swapOne(m SwapMount, nonce string) error {
	if m.File {
		return swap.SwapFile(m.Live, filepath.Join(m.Staging, m.Base), filepath.Join(m.Rollback, m.Base))
	}
	return swap.Swap(m.plan(nonce))
}

// undo puts back the previous content of the mounts swapped before mount failed, and
// returns the numbers of those it could not.
func undo(spec SwapSpec, failed int) []int {
	var out []int
	for i := failed - 1; i >= 0; i-- {
		m := spec.Mounts[i]
		var err error
		if m.File {
			err = swap.SwapFile(m.Live, filepath.Join(m.Rollback, m.Base), filepath.Join(m.Staging, m.Base+".undone"))
		} else {
			// The staged tree went into Live: it goes back into an empty folder of the
			// staging volume, the previous content out of Rollback into Live.
			back := filepath.Join(m.Staging, ".docker-backup-undone-"+spec.Nonce)
			if err = os.Mkdir(back, 0o700); err == nil {
				err = swap.Swap(swap.Plan{
					Live: m.Live, Staging: m.Rollback, Rollback: back, Keep: m.Keep,
					Journal: filepath.Join(m.Staging, ".docker-backup-undo-"+spec.Nonce+"-"+strconv.Itoa(i)+".json"),
				})
			}
		}
		if err != nil {
			out = append(out, i)
		}
	}
	return out
}

// saveSpec writes the spec into each folder mount's staging folder, synced, before the
// first change.
func saveSpec(spec SwapSpec) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("saving the swap's spec: %w", err)
	}
	for _, m := range spec.Mounts {
		if m.File {
			continue
		}
		if err := swap.WriteFileDurably(filepath.Join(m.Staging, SwapSaved(spec.Nonce)), data); err != nil {
			return fmt.Errorf("saving the swap's spec: %w", err)
		}
	}
	return nil
}

// resumeSwap finishes, from their journals, the swaps of a spec that were killed: each
// mount's live content ends exactly the old or the new tree.
func resumeSwap(spec SwapSpec) error {
	for i, m := range spec.Mounts {
		if m.File {
			continue
		}
		err := swap.Resume(filepath.Join(m.Staging, SwapJournal(spec.Nonce)))
		switch {
		case err == nil, errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, swap.ErrRolledBack):
			return failWith(SwapPutBack, "resuming the swap of mount %d put the previous content back: %w", i, err)
		default:
			return failWith(SwapPutBackFailed, "resuming the swap of mount %d: %w", i, err)
		}
	}
	return nil
}

// pending prints the saved spec of a swap that was killed, found in the staging folder
// given: one whose journal is still there. It prints nothing when there is none.
func pending(_ context.Context, args []string, s Streams) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: pending FOLDER", errUsage)
	}
	saved, err := filepath.Glob(filepath.Join(args[0], SwapSaved("*")))
	if err != nil {
		return err
	}
	for _, p := range saved {
		nonce := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), ".docker-backup-swap-"), ".spec")
		if _, err := os.Stat(filepath.Join(args[0], SwapJournal(nonce))); err != nil {
			continue // the swap finished: its journal is gone
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading the saved swap: %w", err)
		}
		_, err = s.Out.Write(append(data, '\n'))
		return err
	}
	return nil
}
