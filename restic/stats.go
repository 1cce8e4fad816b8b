package restic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// RepoStats is `restic stats --json --mode raw-data`: what the selected snapshots keep in
// the repository, after deduplication and compression.
type RepoStats struct {
	// TotalSize is the bytes the snapshots' blobs take in the repository (packed).
	TotalSize             uint64  `json:"total_size"`
	TotalUncompressedSize uint64  `json:"total_uncompressed_size"`
	TotalBlobCount        uint64  `json:"total_blob_count"`
	CompressionRatio      float64 `json:"compression_ratio"`
	SnapshotsCount        int     `json:"snapshots_count"`
}

// Stats reads the size of the data the snapshots that match f refer to, and how many
// they are. It takes no lock: it only reads, and a figure a moment old is good enough
// for metrics. restic walks the snapshots' trees (from its cache) and the index; it
// reads no file data.
func Stats(ctx context.Context, r Runner, f SnapshotFilter) (RepoStats, error) {
	var out bytes.Buffer
	args := append([]string{"stats", "--json", "--no-lock", "--mode", "raw-data"}, f.args()...)
	if err := r.Run(ctx, Invocation{Args: args, Stdout: &out, Kind: "stats"}); err != nil {
		return RepoStats{}, fmt.Errorf("reading the repository's statistics: %w", err)
	}
	var s RepoStats
	// restic prints one JSON object; take its last line in case a notice precedes it.
	b := bytes.TrimSpace(out.Bytes())
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return RepoStats{}, fmt.Errorf("reading restic's statistics: %w", err)
	}
	return s, nil
}
