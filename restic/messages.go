package restic

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// Status is restic's periodic progress message (message_type "status").
type Status struct {
	PercentDone      float64  `json:"percent_done"`
	TotalFiles       uint64   `json:"total_files"`
	FilesDone        uint64   `json:"files_done"`
	TotalBytes       uint64   `json:"total_bytes"`
	BytesDone        uint64   `json:"bytes_done"`
	ErrorCount       uint64   `json:"error_count"`
	SecondsElapsed   uint64   `json:"seconds_elapsed"`
	SecondsRemaining uint64   `json:"seconds_remaining"`
	CurrentFiles     []string `json:"current_files"`
}

// Summary is restic's closing message of a backup (message_type "summary").
type Summary struct {
	FilesNew            uint64  `json:"files_new"`
	FilesChanged        uint64  `json:"files_changed"`
	FilesUnmodified     uint64  `json:"files_unmodified"`
	DirsNew             uint64  `json:"dirs_new"`
	DirsChanged         uint64  `json:"dirs_changed"`
	DirsUnmodified      uint64  `json:"dirs_unmodified"`
	DataBlobs           int64   `json:"data_blobs"`
	TreeBlobs           int64   `json:"tree_blobs"`
	DataAdded           uint64  `json:"data_added"`
	DataAddedPacked     uint64  `json:"data_added_packed"`
	TotalFilesProcessed uint64  `json:"total_files_processed"`
	TotalBytesProcessed uint64  `json:"total_bytes_processed"`
	TotalDuration       float64 `json:"total_duration"`
	SnapshotID          string  `json:"snapshot_id"`
	// DryRun: nothing was stored (SnapshotID is the snapshot that would have been).
	DryRun bool `json:"dry_run,omitempty"`
}

// ErrorItem is a non-fatal error restic reports while it works (message_type "error").
type ErrorItem struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
	During string `json:"during"`
	Item   string `json:"item"`
}

// exitErrorMessage is restic's last word on a fatal error (message_type "exit_error", on stderr).
type exitErrorMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Events receives restic's JSON messages as they arrive. Nil fields are skipped.
type Events struct {
	Status  func(Status)
	Summary func(Summary)
	Error   func(ErrorItem)
}

// eachMessage reads restic's JSON lines from r and hands each, with its message_type, to
// fn as it arrives; other lines are skipped.
func eachMessage(r io.Reader, fn func(kind string, line []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var head struct {
			MessageType string `json:"message_type"`
		}
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &head) != nil {
			continue
		}
		fn(head.MessageType, line)
	}
	return sc.Err()
}

// decodeMessages dispatches restic's JSON messages to ev; unknown fields and message
// types are ignored, as restic adds them.
func decodeMessages(r io.Reader, ev Events) error {
	return eachMessage(r, func(kind string, line []byte) {
		switch kind {
		case "status":
			var s Status
			if ev.Status != nil && json.Unmarshal(line, &s) == nil {
				ev.Status(s)
			}
		case "summary":
			var s Summary
			if ev.Summary != nil && json.Unmarshal(line, &s) == nil {
				ev.Summary(s)
			}
		case "error":
			var e ErrorItem
			if ev.Error != nil && json.Unmarshal(line, &e) == nil {
				ev.Error(e)
			}
		}
	})
}

// Snapshot is one entry of `restic snapshots --json`.
type Snapshot struct {
	ID       string    `json:"id"`
	ShortID  string    `json:"short_id"`
	Time     time.Time `json:"time"`
	Hostname string    `json:"hostname"`
	Paths    []string  `json:"paths"`
	Tags     []string  `json:"tags"`
	Parent   string    `json:"parent,omitempty"`
	// Original is, in a snapshot that restic copy made, the ID of the snapshot it was
	// copied from (of the first one, through copies of copies); IDs differ per repository.
	Original string           `json:"original,omitempty"`
	Summary  *SnapshotSummary `json:"summary,omitempty"`
}

// SnapshotSummary is what restic (0.17 and later) records of the backup that made a
// snapshot: what it processed and added.
type SnapshotSummary struct {
	FilesNew            uint64 `json:"files_new"`
	FilesChanged        uint64 `json:"files_changed"`
	FilesUnmodified     uint64 `json:"files_unmodified"`
	DirsNew             uint64 `json:"dirs_new"`
	DirsChanged         uint64 `json:"dirs_changed"`
	DirsUnmodified      uint64 `json:"dirs_unmodified"`
	DataAdded           uint64 `json:"data_added"`
	TotalFilesProcessed uint64 `json:"total_files_processed"`
	TotalBytesProcessed uint64 `json:"total_bytes_processed"`
}

// Tag returns the value of a key=value tag, or "".
func (s Snapshot) Tag(key string) string {
	for _, t := range s.Tags {
		if len(t) > len(key) && t[len(key)] == '=' && t[:len(key)] == key {
			return t[len(key)+1:]
		}
	}
	return ""
}
