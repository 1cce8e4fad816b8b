package restic

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
)

// lsShallow is `restic ls --json` (not recursive) of restic 0.18.1 for a folder and a
// file, trimmed of times and modes: the folder's entries come too.
const lsShallow = `{"paths":["/backup/files/data","/backup/files/conf"],"id":"44bbd42f","message_type":"snapshot","struct_type":"snapshot"}
{"name":"conf","type":"file","path":"/backup/files/conf","size":6,"inode":9995120,"message_type":"node","struct_type":"node"}
{"name":"data","type":"dir","path":"/backup/files/data","inode":9994858,"message_type":"node","struct_type":"node"}
{"name":"a","type":"file","path":"/backup/files/data/a","size":6,"inode":9995123,"message_type":"node","struct_type":"node"}
{"name":"sub","type":"dir","path":"/backup/files/data/sub","inode":9995124,"message_type":"node","struct_type":"node"}
`

func TestRootTypes(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"ls": lsShallow}}
	got, err := RootTypes(context.Background(), r, "44bbd42f", []string{"/backup/files/data", "/backup/files/conf", "/backup/files/gone"}, "files")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"/backup/files/data": "dir", "/backup/files/conf": "file"}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := r.argv(); !slices.Equal(got, []string{"ls --json --no-lock 44bbd42f /backup/files/data /backup/files/conf /backup/files/gone"}) {
		t.Errorf("argv %q", got)
	}
}

// TestRestoreSummaryComplete: restic 0.18.1's summary of a folder with a file a, a hard
// link b to it, a file c, a symlink and a sparse file, measured: {"total_files":6,
// "files_restored":6,"total_bytes":104857617,"bytes_restored":104857617} (the folder
// counted among the files, b's bytes not).
func TestRestoreSummaryComplete(t *testing.T) {
	for _, tc := range []struct {
		name string
		sum  RestoreSummary
		ok   bool
	}{
		{"hard links", RestoreSummary{TotalFiles: 6, FilesRestored: 6, TotalBytes: 104857617, BytesRestored: 104857617}, true},
		{"parent folders created", RestoreSummary{TotalFiles: 6, FilesRestored: 8, TotalBytes: 5, BytesRestored: 5}, true},
		{"skipped", RestoreSummary{TotalFiles: 6, FilesRestored: 2, FilesSkipped: 4, TotalBytes: 5, BytesRestored: 1, BytesSkipped: 4}, true},
		{"a file missing", RestoreSummary{TotalFiles: 6, FilesRestored: 5, TotalBytes: 5, BytesRestored: 5}, false},
		{"bytes missing", RestoreSummary{TotalFiles: 6, FilesRestored: 6, TotalBytes: 5, BytesRestored: 4}, false},
		{"nothing", RestoreSummary{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.sum.Complete(); (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrRestoreIncomplete) {
				t.Errorf("Complete() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestRestoreArgs(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"restore": `{"message_type":"summary","total_files":2,"files_restored":2,"total_bytes":6,"bytes_restored":6}` + "\n"}}
	sum, err := Restore(context.Background(), r, RestoreOptions{SnapshotID: "44bbd42f", Includes: []string{"/backup/files/data"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.TotalFiles != 2 || sum.BytesRestored != 6 {
		t.Errorf("summary %+v", sum)
	}
	if got := r.argv(); !slices.Equal(got, []string{"restore 44bbd42f --target / --include /backup/files/data --sparse --verify --json"}) {
		t.Errorf("argv %q", got)
	}
}
