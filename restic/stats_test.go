package restic

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestStats(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"stats": `{"total_size":1234567,"total_uncompressed_size":2345678,"compression_ratio":1.9,"compression_progress":100,"compression_space_saving":47.3,"total_blob_count":42,"snapshots_count":3}` + "\n"}}
	s, err := Stats(context.Background(), r, SnapshotFilter{Hosts: []string{"shop@m1", "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalSize != 1234567 || s.TotalUncompressedSize != 2345678 || s.TotalBlobCount != 42 || s.SnapshotsCount != 3 {
		t.Errorf("stats %+v", s)
	}
	if got := r.argv(); !slices.Equal(got, []string{"stats --json --no-lock --mode raw-data --host shop@m1 --host shop"}) {
		t.Errorf("argv %v", got)
	}

	r.out["stats"] = "not json"
	if _, err := Stats(context.Background(), r, SnapshotFilter{}); err == nil {
		t.Error("unreadable output accepted")
	}
	r.errs = map[string]error{"stats": ErrRepoNotFound}
	if _, err := Stats(context.Background(), r, SnapshotFilter{}); !errors.Is(err, ErrRepoNotFound) {
		t.Errorf("error %v, want one that wraps ErrRepoNotFound", err)
	}
}
