package restore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
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

// fileMounts looks into the snapshot for bind mounts only, all in one shallow restic ls:
// a service of volumes runs no restic for it, a path the snapshot lacks is refused.
func TestFileMounts(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	job := Job{Service: env.Plan.Services[0], Snapshot: restic.Snapshot{ID: "aaaa2222", ShortID: "aaaa2222"}}
	if files, err := fileMounts(context.Background(), env, job); err != nil || !slices.Equal(files, []bool{false}) {
		t.Fatalf("volumes only: %v, %v", files, err)
	}
	if ls := f.rst.Find("ls"); len(ls) != 0 {
		t.Errorf("restic ls ran for a service of volumes: %v", ls)
	}
	job.Service.Volumes = append(job.Service.Volumes,
		composeext.Mount{Key: "/etc/app.conf", Type: "bind", Source: "/srv/app.conf", Path: "/backup/files/etc-app.conf"},
		composeext.Mount{Key: "/srv/www", Type: "bind", Source: "/srv/www", Path: "/backup/files/srv-www"})
	f.rst.Reply("ls", enginetest.Reply{Stdout: `{"name":"etc-app.conf","type":"file","path":"/backup/files/etc-app.conf","struct_type":"node"}
{"name":"srv-www","type":"dir","path":"/backup/files/srv-www","struct_type":"node"}
{"name":"index.html","type":"file","path":"/backup/files/srv-www/index.html","struct_type":"node"}
`})
	files, err := fileMounts(context.Background(), env, job)
	if err != nil || !slices.Equal(files, []bool{false, true, false}) {
		t.Fatalf("binds: %v, %v", files, err)
	}
	ls := f.rst.Find("ls")
	if len(ls) != 1 || ls[0].String() != "ls --json --no-lock aaaa2222 /backup/files/etc-app.conf /backup/files/srv-www" {
		t.Errorf("restic ls: %v, want one of the bind mounts' paths", ls)
	}
	f.rst.Reply("ls", enginetest.Reply{Stdout: `{"name":"etc-app.conf","type":"file","path":"/backup/files/etc-app.conf","struct_type":"node"}` + "\n"})
	if _, err := fileMounts(context.Background(), env, job); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "/backup/files/srv-www") {
		t.Errorf("a path the snapshot lacks: %v", err)
	}
}
