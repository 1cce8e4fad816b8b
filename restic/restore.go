package restic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// RestoreStatus is restic restore's progress message (message_type "status").
type RestoreStatus struct {
	PercentDone    float64 `json:"percent_done"`
	TotalFiles     uint64  `json:"total_files"`
	FilesRestored  uint64  `json:"files_restored"`
	FilesSkipped   uint64  `json:"files_skipped"`
	TotalBytes     uint64  `json:"total_bytes"`
	BytesRestored  uint64  `json:"bytes_restored"`
	BytesSkipped   uint64  `json:"bytes_skipped"`
	SecondsElapsed uint64  `json:"seconds_elapsed"`
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

// Restore runs `restic restore ID --target / --include … --verify --json`: restic reads
// every restored file back and compares it with the snapshot. It returns restic's summary.
func Restore(ctx context.Context, r Runner, o RestoreOptions) (RestoreSummary, error) {
	args := []string{"restore", o.SnapshotID, "--target", "/"}
	for _, p := range o.Includes {
		args = append(args, "--include", p)
	}
	args = append(args, "--verify", "--json")
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

// TreeStats counts what a snapshot holds under a path, the path's own folder included.
type TreeStats struct {
	Nodes, Files, Dirs, Symlinks, Other uint64
	// Bytes is the sum of the regular files' sizes.
	Bytes uint64
	// Hardlinks is true when some file has more than one link: restic then counts its
	// bytes once per link or once per file depending on the version.
	Hardlinks bool
	// Root is the type of the path's own node: "dir", or "file" for a bind-mounted file.
	Root string
}

// lsNode is one line of `restic ls --json`.
type lsNode struct {
	StructType string `json:"struct_type"`
	Type       string `json:"type"`
	Path       string `json:"path"`
	Size       uint64 `json:"size"`
	Links      uint64 `json:"links"`
}

// SnapshotFiles counts the nodes and bytes of a snapshot under path, with `restic ls
// --recursive --json`, streamed: a large tree is never held in memory.
func SnapshotFiles(ctx context.Context, r Runner, snapshotID, path, service string) (TreeStats, error) {
	var st TreeStats
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
				if n.Links > 1 {
					st.Hardlinks = true
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
	return st, nil
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
