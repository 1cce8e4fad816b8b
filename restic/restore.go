package restic

import (
	"cmp"
	"context"
	"encoding/json"
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
	err := runLines(ctx, r, Invocation{Args: args, Mounts: o.Mounts, Service: o.Service, Kind: "restore"},
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

// TreeStats counts what a snapshot holds under a path, the path's own folder included,
// as restic's restore summary counts it: every name is a node (a hard link too), and the
// bytes of a file with several names are counted once.
type TreeStats struct {
	Nodes, Files, Dirs, Symlinks, Other uint64
	// Bytes is the sum of the sizes of the distinct regular files: a file's further
	// names (hard links) add none, as restic restores them as links and counts no bytes.
	Bytes uint64
	// Links is how many of Files are further names of a file counted before.
	Links uint64
	// Root is the type of the path's own node: "dir", or "file" for a bind-mounted file.
	Root string
}

// lsNode is one line of `restic ls --json`. restic 0.18 prints no link count there,
// only the inode: names of one file share it.
type lsNode struct {
	StructType string `json:"struct_type"`
	Type       string `json:"type"`
	Path       string `json:"path"`
	Size       uint64 `json:"size"`
	Inode      uint64 `json:"inode"`
}

// fileInode is a regular file's inode and size, to find the names of one file.
type fileInode struct{ ino, size uint64 }

// SnapshotFiles counts the nodes and bytes of a snapshot under path, with `restic ls
// --recursive --json`, streamed: the tree is never held in memory, only each regular
// file's inode and size (16 bytes a file), to tell hard links apart.
//
// restic restores a file with several names once and links its other names to it, so
// its restore summary counts every name among total_files and files_restored but the
// file's size once in total_bytes and bytes_restored (it keys files by device and inode;
// ls gives no device, and one mount's files share one). The counts here follow it, so
// the comparison with the summary stays exact.
func SnapshotFiles(ctx context.Context, r Runner, snapshotID, path, service string) (TreeStats, error) {
	var st TreeStats
	var inodes []fileInode
	prefix := strings.TrimRight(path, "/") + "/"
	err := runLines(ctx, r, Invocation{Args: []string{"ls", "--recursive", "--json", "--no-lock", snapshotID, path}, Service: service, Kind: "ls"},
		func(_ string, line []byte) {
			var n lsNode
			if json.Unmarshal(line, &n) != nil || n.StructType != "node" {
				return
			}
			if n.Path != path && !strings.HasPrefix(n.Path, prefix) {
				return
			}
			st.Nodes++
			if n.Path == path {
				st.Root = n.Type
			}
			switch n.Type {
			case "file":
				st.Files++
				st.Bytes += n.Size
				if n.Inode != 0 {
					inodes = append(inodes, fileInode{n.Inode, n.Size})
				}
			case "dir":
				st.Dirs++
			case "symlink":
				st.Symlinks++
			default:
				st.Other++
			}
		})
	if err != nil {
		return st, fmt.Errorf("listing %s in snapshot %s: %w", path, ShortID(snapshotID), err)
	}
	st.Links, st.Bytes = countLinks(inodes, st.Bytes)
	return st, nil
}

// countLinks finds the names that share an inode with one met before: it returns how
// many there are, and bytes less their sizes. The sort is stable, so the name kept is the
// first listed, the one restic restores (their sizes differ only if the file changed
// while it was backed up).
func countLinks(inodes []fileInode, bytes uint64) (links, rest uint64) {
	slices.SortStableFunc(inodes, func(a, b fileInode) int { return cmp.Compare(a.ino, b.ino) })
	for i := 1; i < len(inodes); i++ {
		if inodes[i].ino == inodes[i-1].ino {
			links++
			bytes -= inodes[i].size
		}
	}
	return links, bytes
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
