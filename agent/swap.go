package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

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

// plan is the swap.Plan of a folder mount.
func (m SwapMount) plan(nonce string) swap.Plan {
	return swap.Plan{
		Live: m.Live, Staging: m.Staging, Rollback: m.Rollback,
		Journal: filepath.Join(m.Staging, SwapJournal(nonce)),
		Keep:    m.Keep, Skip: []string{SwapJournal(nonce)},
		Marker: StagedMarker(nonce), Nonce: nonce,
	}
}

// swapCommand runs the swap of a restore.
func swapCommand(_ context.Context, args []string, s Streams) error {
	var spec SwapSpec
	if err := readSpec("swap", args, &spec); err != nil {
		return err
	}
	for i, m := range spec.Mounts {
		got, err := os.ReadFile(filepath.Join(m.Staging, StagedMarker(spec.Nonce)))
		if err != nil || string(got) != spec.Nonce {
			fmt.Fprintln(s.Out, i)
			return failWith(SwapNotStaged, "the staging folder of mount %d lacks this restore's marker", i)
		}
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
