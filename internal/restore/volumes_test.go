package restore

import (
	"errors"
	"testing"

	"github.com/docker-backup/docker-backup/restic"
)

// TestVerify checks restic 0.18.1's restore summaries: a file a with a hard link b and
// a file c of 11 bytes, in their folder (restic measured: 4 names restored, a's 6 bytes
// counted once).
func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sum   restic.RestoreSummary
		roots int
		ok    bool
	}{
		{"restored", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 4, TotalBytes: 17, BytesRestored: 17}, 1, true},
		{"parent folders created too", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 6, TotalBytes: 17, BytesRestored: 17}, 1, true},
		{"already in place", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 1, FilesSkipped: 3, TotalBytes: 17, BytesSkipped: 17}, 1, true},
		{"bytes missing", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 4, TotalBytes: 17, BytesRestored: 11}, 1, false},
		{"not restored", restic.RestoreSummary{TotalFiles: 4, FilesRestored: 2, TotalBytes: 17, BytesRestored: 17}, 1, false},
		{"fewer nodes than paths", restic.RestoreSummary{TotalFiles: 1, FilesRestored: 1}, 2, false},
		{"nothing", restic.RestoreSummary{}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verify(tc.sum, tc.roots)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, errVerify) {
				t.Errorf("verify: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
