package restore

import (
	"errors"
	"testing"

	"github.com/docker-backup/docker-backup/restic"
)

// TestVerifyCounts compares restic 0.18.1's restore summaries with the snapshot's counts:
// a file a with a hard link b and a file c of 11 bytes, in their folder (restic measured:
// 4 names restored, a's 6 bytes counted once).
func TestVerifyCounts(t *testing.T) {
	want := restic.TreeStats{Nodes: 4, Files: 3, Dirs: 1, Bytes: 17, Links: 1, Root: "dir"}
	for _, tc := range []struct {
		name string
		sum  restic.RestoreSummary
		ok   bool
	}{
		{"restored", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 4, TotalBytes: 17, BytesRestored: 17}, true},
		{"parent folders created too", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 6, TotalBytes: 17, BytesRestored: 17}, true},
		{"bytes missing", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 4, TotalBytes: 17, BytesRestored: 11}, false},
		{"a link's bytes counted as a file's", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 4, TotalBytes: 23, BytesRestored: 23}, false},
		{"a name missing", restic.RestoreSummary{TotalFiles: 3, FilesRestored: 3, TotalBytes: 17, BytesRestored: 17}, false},
		{"not restored", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 2, TotalBytes: 17, BytesRestored: 17}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verify(tc.sum, want)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, errVerify) {
				t.Errorf("verify: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
