package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/report"
)

// dbSnapshot is restic's list of the stack's snapshots: one of db, taken on node.
func dbSnapshot(node string) string {
	return fmt.Sprintf(`[{"id":"%s","short_id":"1a7e5700","time":"2026-12-02T03:00:00Z","hostname":"shop@swarm-cluste","paths":["/backup/db/db.sql"],"tags":["project=shop","service=db","strategy=dump","node=%s"]}]`+"\n",
		"1a7e5700"+strings.Repeat("0", 56), node)
}

// On a stack with a retention policy, a dump service whose task (on worker-1, with the
// local volume shop_pgdata) moved there from the node of its latest snapshot is backed
// up, warned with one line naming both nodes and its volume, and its retention is held
// this run; on the same node it is ok and its retention applied.
func TestStackUpDumpMoved(t *testing.T) {
	for _, tc := range []struct {
		name, latestNode string
		moved            bool
	}{
		{name: "moved", latestNode: "worker-2", moved: true},
		{name: "same node", latestNode: "worker-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, rst := stackDumpFixtureOf(t, stackKeepCompose, "CREATE TABLE notes;\n", 0, nil)
			anchor := newAnchorRestic(f)
			anchor.answer = func(args []string) (enginetest.Reply, bool) {
				if args[0] != "snapshots" || slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "unconfirmed") }) {
					return enginetest.Reply{}, false
				}
				return enginetest.Reply{Stdout: dbSnapshot(tc.latestNode)}, true
			}
			res := upDB(t, f)
			if len(rst.Find("backup")) != 1 || res.Snapshot == "" {
				t.Fatalf("db: %+v, restic ran %v: want the dump stored", res, rst.Commands())
			}
			forgets := anchor.ran("forget")
			if !tc.moved {
				if res.Status != report.StatusOK || len(forgets) != 1 {
					t.Errorf("db: %+v, forget ran %q: want ok, its retention applied", res, forgets)
				}
				return
			}
			want := "service db moved from worker-2 to worker-1, where its local volume shop_pgdata did not follow it: the dump stored is of the database there now, which may be a new, empty one; its older snapshots (the latest, 1a7e5700, from worker-2) kept from retention this run; if it is new, restore it onto worker-1 (docker backup restore)"
			if res.Status != report.StatusWarning || !strings.Contains(res.Error, want) {
				t.Errorf("db: %+v\nwant a warning %q", res, want)
			}
			if len(forgets) != 0 {
				t.Errorf("forget ran %q: want db's retention held", forgets)
			}
		})
	}
}
