package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/report"
)

// stackKeepCompose is stackS3Compose with a retention policy.
var stackKeepCompose = strings.Replace(stackS3Compose, "  password_file: restic.pw\n", "  password_file: restic.pw\n  retention: {keep_last: 1}\n", 1)

// cacheSnapshots is restic's list of the stack's snapshots of cache: an older one taken
// on worker-2, the latest on node latestNode holding latestFiles files.
func cacheSnapshots(latestNode string, latestFiles int) string {
	snap := func(id, time, node string, files int) string {
		return fmt.Sprintf(`{"id":"%s","short_id":"%s","time":"%s","hostname":"shop@swarm-cluste","paths":["/backup/cache/shop_cache"],"tags":["project=shop","service=cache","strategy=volumes","node=%s"],"summary":{"total_files_processed":%d}}`,
			id+strings.Repeat("0", 56), id, time, node, files)
	}
	return "[" + snap("0ld0ld00", "2026-12-01T03:00:00Z", "worker-2", 5) + "," + snap("1a7e5700", "2026-12-02T03:00:00Z", latestNode, latestFiles) + "]\n"
}

// On a stack with a retention policy, up checks whether cache's task moved (it runs on
// worker-2) from the node of its latest snapshot: when it did and the volume there is
// empty (a dry run on that node says so) nothing is stored, cache fails with one line
// naming both nodes, and retention leaves its snapshots alone; otherwise it is backed up
// and its retention applied.
func TestStackUpMoved(t *testing.T) {
	for _, tc := range []struct {
		name              string
		latestNode        string
		latestFiles       int
		dryFiles          int
		wantDryRun, moved bool
	}{
		{name: "moved onto an empty volume", latestNode: "worker-1", latestFiles: 3, dryFiles: 0, wantDryRun: true, moved: true},
		{name: "moved, the data restored there", latestNode: "worker-1", latestFiles: 3, dryFiles: 2, wantDryRun: true},
		{name: "same node", latestNode: "worker-2", latestFiles: 3},
		{name: "moved, the latest snapshot held no files", latestNode: "worker-1", latestFiles: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, restic := stackS3FixtureOf(t, stackKeepCompose)
			restic.answer = func(args []string) (enginetest.Reply, bool) {
				if args[0] != "snapshots" || slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "unconfirmed") }) {
					return enginetest.Reply{}, false
				}
				return enginetest.Reply{Stdout: cacheSnapshots(tc.latestNode, tc.latestFiles)}, true
			}
			f.eng.Swarm.Job = func(j *enginetest.Job) int {
				files, id := 2, "feedfacefeedface"
				if slices.Contains(j.Spec.TaskTemplate.ContainerSpec.Args, "--dry-run") {
					files, id = tc.dryFiles, "d0d0d0d0d0d0d0d0"
				}
				fmt.Fprintf(&j.Stdout, `{"message_type":"summary","total_files_processed":%d,"snapshot_id":"%s"}`+"\n", files, id)
				return 0
			}
			rep, err := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"cache"}}, f.sink())
			var dry, real int
			for _, j := range f.eng.Swarm.Jobs {
				if slices.Contains(j.Spec.TaskTemplate.ContainerSpec.Args, "--dry-run") {
					dry++
				} else {
					real++
				}
				if !j.Removed {
					t.Errorf("job %s left", j.ID)
				}
			}
			forgets := restic.ran("forget")
			if len(rep.Services) != 1 {
				t.Fatalf("services %+v", rep.Services)
			}
			s := rep.Services[0]
			if tc.moved {
				want := "service cache moved from worker-1 to worker-2, where its volume shop_cache is new and empty: nothing stored, and its snapshots (the latest, 1a7e5700, from worker-1) kept from retention; restore it onto worker-2 (docker backup restore) or move the task back"
				if err == nil || s.Status != report.StatusFailed || s.Error != want || s.Snapshot != "" {
					t.Errorf("up: %v, cache %+v; want failed with\n%s", err, s, want)
				}
				if dry != 1 || real != 0 || len(forgets) != 0 {
					t.Errorf("%d dry runs, %d backups, forgets %q; want the dry run alone", dry, real, forgets)
				}
				return
			}
			if err != nil || s.Status != report.StatusOK || s.Snapshot != "feedfacefeedface" {
				t.Errorf("up: %v, cache %+v; want ok", err, s)
			}
			if wantDry := map[bool]int{true: 1}[tc.wantDryRun]; dry != wantDry || real != 1 {
				t.Errorf("%d dry runs, %d backups; want %d and 1", dry, real, wantDry)
			}
			if len(forgets) != 1 || !strings.Contains(forgets[0], "--keep-last 1") || !strings.Contains(forgets[0], "service=cache") || !strings.Contains(forgets[0], "--group-by host,paths") {
				t.Errorf("forgets %q, want cache's retention applied", forgets)
			}
		})
	}
}

// The stack's snapshots that cannot be listed leave the move unchecked: the service
// fails rather than risk storing a new node's emptiness as its latest state.
func TestStackUpMovedUnchecked(t *testing.T) {
	f, restic := stackS3FixtureOf(t, stackKeepCompose)
	restic.answer = func(args []string) (enginetest.Reply, bool) {
		if args[0] == "snapshots" && !slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "unconfirmed") }) {
			return enginetest.Reply{Stderr: "Fatal: unable to open config file\n", Code: 1}, true
		}
		return enginetest.Reply{}, false
	}
	f.eng.Swarm.Job = func(j *enginetest.Job) int {
		t.Errorf("a job ran: %q", j.Spec.TaskTemplate.ContainerSpec.Args)
		return 1
	}
	rep, err := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"cache"}}, f.sink())
	if err == nil || len(rep.Services) != 1 || rep.Services[0].Status != report.StatusFailed || !strings.HasPrefix(rep.Services[0].Error, "checking whether cache moved to another node: ") {
		t.Errorf("up: %v, %+v; want cache failed, unchecked", err, rep.Services)
	}
	if got := restic.ran("forget"); len(got) != 0 {
		t.Errorf("forgets %q", got)
	}
}
