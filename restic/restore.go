package restic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// RestoreStatus is restic restore's progress message (message_type "status"): the
// summary's counts so far.
type RestoreStatus struct {
	PercentDone float64 `json:"percent_done"`
	RestoreSummary
	SecondsElapsed uint64 `json:"seconds_elapsed"`
}

// RestoreSummary is restic restore's closing message (message_type "summary"). TotalFiles
// counts every node under the included paths (folders, files, links); FilesRestored also
// counts the parent folders restic creates on the way.
type RestoreSummary struct {
	TotalFiles    uint64 `json:"total_files"`
	FilesRestored uint64 `json:"files_restored"`
	FilesSkipped  uint64 `json:"files_skipped"`
	TotalBytes    uint64 `json:"total_bytes"`
	BytesRestored uint64 `json:"bytes_restored"`
	BytesSkipped  uint64 `json:"bytes_skipped"`
}

// RestoreOptions says what one restore writes where.
type RestoreOptions struct {
	SnapshotID string
	// Includes are the snapshot paths to restore; each is restored at the same path in
	// the helper, where Mounts put the volumes that receive them.
	Includes []string
	Mounts   []Mount
	Service  string
	// Files and Before are the invocation's (Invocation.Before): a check that runs in
	// the restore's helper before restic.
	Files  []File
	Before string
	// Progress, if set, receives restic's status messages.
	Progress func(RestoreStatus)
}

// Restore runs `restic restore ID --target / --include … --sparse --verify --json`:
// restic reads every restored file back and compares it with the snapshot. --sparse
// leaves the runs of zeros it restores as holes, so a sparse file comes back sparse
// instead of fully allocated (a 100 MiB file holding a few KiB would take 100 MiB). It
// returns restic's summary.
func Restore(ctx context.Context, r Runner, o RestoreOptions) (RestoreSummary, error) {
	args := []string{"restore", o.SnapshotID, "--target", "/"}
	for _, p := range o.Includes {
		args = append(args, "--include", p)
	}
	args = append(args, "--sparse", "--verify", "--json")
	var summary RestoreSummary
	var got bool
	err := runLines(ctx, r, Invocation{Args: args, Mounts: o.Mounts, Service: o.Service, Kind: "restore", Files: o.Files, Before: o.Before},
		func(kind string, line []byte) {
			switch kind {
			case "status":
				var s RestoreStatus
				if o.Progress != nil && json.Unmarshal(line, &s) == nil {
					o.Progress(s)
				}
			case "summary":
				got = json.Unmarshal(line, &summary) == nil
			}
		})
	if err != nil {
		return summary, fmt.Errorf("restoring snapshot %s: %w", ShortID(o.SnapshotID), err)
	}
	if !got {
		return summary, fmt.Errorf("restoring snapshot %s: %w: restic reported no summary", ShortID(o.SnapshotID), ErrFailed)
	}
	return summary, nil
}

// Complete checks restic's summary of a restore for a result restored whole: every node
// it set out to restore (a hard link is one: restic links a file's further names and
// counts its bytes once) restored or found already in place, and every byte. restic
// counts its totals from the snapshot's tree before it writes, so a restore cut short
// (a dropped connection, a pack it cannot read) shows here even if restic exits 0.
func (s RestoreSummary) Complete() error {
	if s.TotalFiles == 0 || s.FilesRestored+s.FilesSkipped < s.TotalFiles {
		return fmt.Errorf("%w: restic restored %d of %d files and folders", ErrRestoreIncomplete, min(s.TotalFiles, s.FilesRestored+s.FilesSkipped), s.TotalFiles)
	}
	if s.BytesRestored+s.BytesSkipped != s.TotalBytes {
		return fmt.Errorf("%w: restic restored %d of %d bytes", ErrRestoreIncomplete, s.BytesRestored+s.BytesSkipped, s.TotalBytes)
	}
	return nil
}

// ErrRestoreIncomplete is a restore whose summary says it did not restore everything.
var ErrRestoreIncomplete = errors.New("restore incomplete")

// RootTypes returns the type restic recorded ("dir", "file"…) for each of paths in the
// snapshot, with one `restic ls --json` that is not recursive: it lists the paths and
// the entries of those that are folders, nothing deeper. A path the snapshot does not
// hold is missing from the map.
func RootTypes(ctx context.Context, r Runner, snapshotID string, paths []string, service string) (map[string]string, error) {
	types := map[string]string{}
	args := append([]string{"ls", "--json", "--no-lock", snapshotID}, paths...)
	err := runLines(ctx, r, Invocation{Args: args, Service: service, Kind: "ls"},
		func(_ string, line []byte) {
			var n struct {
				StructType string `json:"struct_type"`
				Type       string `json:"type"`
				Path       string `json:"path"`
			}
			if json.Unmarshal(line, &n) == nil && n.StructType == "node" && slices.Contains(paths, n.Path) {
				types[n.Path] = n.Type
			}
		})
	if err != nil {
		return nil, fmt.Errorf("looking at %s in snapshot %s: %w", strings.Join(paths, ", "), ShortID(snapshotID), err)
	}
	return types, nil
}

// runLines runs inv and hands each JSON line of its output, with its message_type, to
// fn as it arrives.
func runLines(ctx context.Context, r Runner, inv Invocation, fn func(kind string, line []byte)) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := eachMessage(pr, fn)
		_, _ = io.Copy(io.Discard, pr)
		done <- err
	}()
	inv.Stdout = pw
	err := r.Run(ctx, inv)
	pw.Close()
	if derr := <-done; err == nil && derr != nil {
		return fmt.Errorf("reading restic's output: %w", derr)
	}
	return err
}
