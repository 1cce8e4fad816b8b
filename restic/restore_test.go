package restic

import (
	"context"
	"slices"
	"testing"
)

// lsHardlinks is `restic ls --recursive --json` of restic 0.18.1 for a folder with a
// file a, a hard link b to it, a file c and a sparse file (trimmed of times and modes):
// no link count, only inodes.
const lsHardlinks = `{"paths":["/backup/files/data"],"id":"44bbd42f","message_type":"snapshot","struct_type":"snapshot"}
{"name":"data","type":"dir","path":"/backup/files/data","inode":9994858,"message_type":"node","struct_type":"node"}
{"name":"a","type":"file","path":"/backup/files/data/a","size":6,"inode":9995123,"message_type":"node","struct_type":"node"}
{"name":"b","type":"file","path":"/backup/files/data/b","size":6,"inode":9995123,"message_type":"node","struct_type":"node"}
{"name":"c","type":"file","path":"/backup/files/data/c","size":11,"inode":9995124,"message_type":"node","struct_type":"node"}
{"name":"l","type":"symlink","path":"/backup/files/data/l","inode":9995126,"message_type":"node","struct_type":"node"}
{"name":"sparse","type":"file","path":"/backup/files/data/sparse","size":104857600,"inode":9995125,"message_type":"node","struct_type":"node"}
{"name":"other","type":"file","path":"/backup/files/other/x","size":5,"inode":9995123,"message_type":"node","struct_type":"node"}
`

// TestSnapshotFilesHardlinks: the counts are restic 0.18.1's restore summary of the same
// snapshot, measured: {"total_files":6,"files_restored":6,"total_bytes":104857617,
// "bytes_restored":104857617} (the folder counted among the files, b's bytes not).
func TestSnapshotFilesHardlinks(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"ls": lsHardlinks}}
	st, err := SnapshotFiles(context.Background(), r, "44bbd42f", "/backup/files/data", "files")
	if err != nil {
		t.Fatal(err)
	}
	want := TreeStats{Nodes: 6, Files: 4, Dirs: 1, Symlinks: 1, Bytes: 104857617, Links: 1, Root: "dir"}
	if st != want {
		t.Errorf("got %+v, want %+v", st, want)
	}
	if got := r.argv(); !slices.Equal(got, []string{"ls --recursive --json --no-lock 44bbd42f /backup/files/data"}) {
		t.Errorf("argv %q", got)
	}
}

func TestCountLinks(t *testing.T) {
	for _, tc := range []struct {
		name          string
		inodes        []fileInode
		bytes         uint64
		links, bytes2 uint64
	}{
		{"none", nil, 0, 0, 0},
		{"distinct", []fileInode{{1, 5}, {2, 7}}, 12, 0, 12},
		{"three names", []fileInode{{9, 4}, {1, 5}, {9, 4}, {9, 4}}, 17, 2, 9},
		// A file that changed between its names: restic counts the first name's size.
		{"first name kept", []fileInode{{3, 10}, {3, 12}}, 22, 1, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			links, bytes := countLinks(tc.inodes, tc.bytes)
			if links != tc.links || bytes != tc.bytes2 {
				t.Errorf("got %d links, %d bytes; want %d, %d", links, bytes, tc.links, tc.bytes2)
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
