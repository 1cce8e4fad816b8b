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

	"github.com/docker-backup/docker-backup/internal/atomicfile"
	"github.com/docker-backup/docker-backup/internal/swap"
)

// Exit codes of `agent swap`. The agent also prints each mount's state on its standard
// output (SwapReport) whatever the outcome.
const (
	SwapUnchanged     = 2 // nothing was replaced: the live content is unchanged
	SwapPutBack       = 3 // replacing failed; the previous content was put back everywhere
	SwapPutBackFailed = 4 // the mounts are not all old: some could not be put back
	SwapNotStaged     = 5 // a staging folder lacks this restore's marker: live untouched
	SwapNotBegun      = 6 // --resume: the swap never began (no journal): live untouched
)

// States of a mount in a SwapReport.
const (
	MountOld   = "old"   // the live content is the previous one, whole
	MountNew   = "new"   // the live content is the restored one, whole
	MountMixed = "mixed" // the swap of this mount could not be finished either way
)

// SwapSpec is what `agent swap` replaces: each mount's live content by its staged one,
// the previous content moved to its rollback folder, all of them or none. Every path is
// one the plugin chose from engine state; Records is a folder of ours (a volume no
// service mounts) that holds every journal, so no file a service could write decides
// what a swap touches.
type SwapSpec struct {
	Nonce   string      `json:"nonce"`
	Records string      `json:"records"`
	Mounts  []SwapMount `json:"mounts"`
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

// SwapReport is the one line `agent swap` prints: each mount's state (MountOld,
// MountNew, MountMixed), in the spec's order.
type SwapReport struct {
	Mounts []string `json:"mounts"`
}

// Directions of a service's swap, as its journal (swapJournal) records them.
const (
	forward = "forward" // replacing the mounts one by one
	back    = "back"    // a mount failed: putting every replaced one back
)

// serviceJournal is the swap of all of a service's mounts: which way it goes. Each
// mount has its own journals besides (its swap, its undo), which say how far it got.
type serviceJournal struct {
	Version   int    `json:"version"`
	Nonce     string `json:"nonce"`
	Direction string `json:"direction"`
}

// swapCommand runs the swap of a restore: all mounts new, or all old. With --resume it
// finishes a swap that was begun (after its helper was killed) and never begins one.
func swapCommand(_ context.Context, args []string, s Streams) error {
	resume := len(args) > 0 && args[0] == "--resume"
	if resume {
		args = args[1:]
	}
	var spec SwapSpec
	if err := readSpec("swap", args, &spec); err != nil {
		return err
	}
	if err := confineSpec(spec); err != nil {
		return failWith(SwapUnchanged, "refusing the swap: %w", err)
	}
	return swapAll(spec, !resume, s)
}

// swapAll drives the swap of spec's mounts and prints their states.
func swapAll(spec SwapSpec, begin bool, s Streams) error {
	d := &driver{spec: spec, states: make([]string, len(spec.Mounts))}
	code, err := d.run(begin)
	if jerr := json.NewEncoder(s.Out).Encode(SwapReport{Mounts: d.states}); jerr != nil && err == nil {
		err = jerr
	}
	if code != 0 {
		return failWith(code, "%w", err)
	}
	return err
}

// driver swaps a spec's mounts as one.
type driver struct {
	spec   SwapSpec
	states []string
	// changed says a mount's live content was changed at some point (and maybe put back).
	changed bool
}

func (d *driver) journal() string { return filepath.Join(d.spec.Records, "swap.json") }

// run goes forward through the mounts, or, once one failed, back: every mount ends old
// or every mount ends new, unless putting one back fails too.
func (d *driver) run(begin bool) (int, error) {
	for i := range d.states {
		d.states[i] = MountOld
	}
	sj, err := readServiceJournal(d.journal())
	switch {
	case errors.Is(err, fs.ErrNotExist) && !begin:
		return SwapNotBegun, errors.New("the swap never began: nothing was replaced")
	case errors.Is(err, fs.ErrNotExist):
		for i, m := range d.spec.Mounts {
			got, err := os.ReadFile(filepath.Join(m.Staging, StagedMarker(d.spec.Nonce)))
			if err != nil || string(got) != d.spec.Nonce {
				return SwapNotStaged, fmt.Errorf("the staging folder of mount %d lacks this restore's marker", i)
			}
		}
		sj = &serviceJournal{Version: 1, Nonce: d.spec.Nonce, Direction: forward}
		if err := d.write(sj); err != nil {
			return SwapUnchanged, err
		}
	case err != nil:
		return SwapPutBackFailed, err
	case sj.Nonce != d.spec.Nonce:
		return SwapUnchanged, fmt.Errorf("the swap journal in %s is another swap's: refused", d.spec.Records)
	}
	var failure error
	if sj.Direction == forward {
		for i := range d.spec.Mounts {
			if failure = d.forward(i); failure != nil {
				failure = fmt.Errorf("mount %d: %w", i, failure)
				break
			}
			d.states[i] = MountNew
		}
		if failure == nil {
			return 0, nil
		}
		sj.Direction = back
		if err := d.write(sj); err != nil {
			return SwapPutBackFailed, errors.Join(failure, err)
		}
	} else {
		failure = errors.New("an earlier swap failed and was being put back")
	}
	for i := len(d.spec.Mounts) - 1; i >= 0; i-- {
		d.states[i] = d.back(i)
	}
	for _, st := range d.states {
		if st != MountOld {
			return SwapPutBackFailed, fmt.Errorf("%w; putting the previous content back failed too", failure)
		}
	}
	if !d.changed {
		return SwapUnchanged, failure
	}
	return SwapPutBack, failure
}

func (d *driver) write(sj *serviceJournal) error {
	b, err := json.Marshal(sj)
	if err == nil {
		err = atomicfile.WriteFile(d.journal(), b, 0o600)
	}
	if err != nil {
		return fmt.Errorf("writing the swap's journal: %w", err)
	}
	return nil
}

// forward brings mount i to its new content: a swap begun is finished, one not begun
// begins. An error means the mount is not new (see back).
func (d *driver) forward(i int) error {
	m := d.spec.Mounts[i]
	if m.File {
		p := d.filePlan(i)
		st, err := swap.FileStatusOf(p)
		switch {
		case err != nil:
			return err
		case st == swap.NotBegun:
			d.changed = true
			return swap.SwapFileJournaled(p)
		case st == swap.Done:
			return nil
		}
		d.changed = true
		return swap.ResumeFile(p)
	}
	p := d.plan(i)
	st, err := swap.StatusOf(p)
	switch {
	case err != nil:
		return err
	case st == swap.NotBegun:
		err = swap.Swap(p)
		if !errors.Is(err, swap.ErrUnchanged) {
			d.changed = true
		}
		return err
	case st == swap.Done:
		return nil
	}
	d.changed = true
	return swap.Resume(p)
}

// back brings mount i to its previous content and returns its state.
func (d *driver) back(i int) string {
	m := d.spec.Mounts[i]
	if m.File {
		p := d.filePlan(i)
		err := swap.RevertFile(p)
		switch {
		case err == nil, errors.Is(err, fs.ErrNotExist):
			return MountOld
		}
		return MountMixed
	}
	p := d.plan(i)
	st, err := swap.StatusOf(p)
	if err != nil {
		return MountMixed
	}
	if st == swap.InProgress {
		if err := swap.Resume(p); err != nil && !errors.Is(err, swap.ErrRolledBack) {
			return MountMixed
		}
		if st, err = swap.StatusOf(p); err != nil {
			return MountMixed
		}
	}
	if st != swap.Done {
		return MountOld // never begun, or reverted by the swap itself
	}
	u := d.undoPlan(i)
	ust, err := swap.StatusOf(u)
	switch {
	case err != nil:
		return MountMixed
	case ust == swap.NotBegun:
		if err := os.Mkdir(u.Rollback, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return MountNew
		}
		err = swap.Swap(u)
	case ust == swap.InProgress:
		err = swap.Resume(u)
	case ust == swap.Reverted:
		return MountNew
	}
	switch {
	case err == nil:
		return MountOld
	case errors.Is(err, swap.ErrMixed):
		return MountMixed
	}
	return MountNew // the undo failed and was put back: the mount holds the new tree
}

// plan is the swap.Plan of folder mount i.
func (d *driver) plan(i int) swap.Plan {
	m := d.spec.Mounts[i]
	return swap.Plan{
		Live: m.Live, Staging: m.Staging, Rollback: m.Rollback, Keep: m.Keep,
		Journal:     filepath.Join(d.spec.Records, strconv.Itoa(i)+".json"),
		Marker:      StagedMarker(d.spec.Nonce),
		Nonce:       d.spec.Nonce,
		KeepJournal: true,
	}
}

// undoPlan puts folder mount i back: the previous content from Rollback into Live, the
// restored tree out of Live into an empty folder of the staging volume.
func (d *driver) undoPlan(i int) swap.Plan {
	m := d.spec.Mounts[i]
	return swap.Plan{
		Live: m.Live, Staging: m.Rollback, Keep: m.Keep,
		Rollback:    filepath.Join(m.Staging, ".docker-backup-undone-"+d.spec.Nonce),
		Journal:     filepath.Join(d.spec.Records, "undo-"+strconv.Itoa(i)+".json"),
		KeepJournal: true,
	}
}

// filePlan is the swap of file mount i.
func (d *driver) filePlan(i int) swap.FilePlan {
	m := d.spec.Mounts[i]
	return swap.FilePlan{
		Live: m.Live, Staged: filepath.Join(m.Staging, m.Base), Rollback: filepath.Join(m.Rollback, m.Base),
		Journal: filepath.Join(d.spec.Records, strconv.Itoa(i)+".json"),
	}
}

// readServiceJournal reads the service's swap journal; a missing one matches
// fs.ErrNotExist.
func readServiceJournal(path string) (*serviceJournal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sj serviceJournal
	if err := json.Unmarshal(b, &sj); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if sj.Version != 1 || sj.Direction != forward && sj.Direction != back {
		return nil, fmt.Errorf("reading %s: unknown version or direction", path)
	}
	return &sj, nil
}
