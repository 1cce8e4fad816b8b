package plugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/restic"
)

// A copy repository's listing has a COPIED FROM column with the source's short ID; the
// primary's has none.
func TestSnapshotTableCopiedFrom(t *testing.T) {
	at := time.Date(2026, 1, 12, 10, 0, 0, 0, time.Local)
	rows := []app.SnapshotRow{{ShortID: "c0de2222", Time: at, Service: "db", Strategy: "dump", Paths: []string{"/db.sql"}, Original: "b2b2b2b2b2b2b2b2"}}
	var out bytes.Buffer
	if err := writeSnapshotTable(&out, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "ID COPIED FROM TIME SERVICE STRATEGY HOLDS ADDED" ||
		strings.Join(strings.Fields(lines[1]), " ") != "c0de2222 b2b2b2b2 2026-01-12 10:00:00 db dump /db.sql -" {
		t.Errorf("copy's table:\n%s", out.String())
	}
	rows[0].Original = ""
	out.Reset()
	if err := writeSnapshotTable(&out, rows); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "COPIED FROM") {
		t.Errorf("the primary's table has a COPIED FROM column:\n%s", out.String())
	}
}

// restore from a copy names the snapshot by the copy's ID and the primary's.
func TestRestoreViewCopy(t *testing.T) {
	var out bytes.Buffer
	p := &restorePlain{out: &out, warn: func(string) {}}
	snap := restic.Snapshot{ShortID: "c0de2222", Time: time.Date(2026, 1, 12, 10, 0, 0, 0, time.Local), Original: "b2b2b2b2b2b2b2b2"}
	p.Event(app.Event{Kind: app.Started, Service: "db", Strategy: "dump", Snapshot: &snap})
	if want := "db: restoring snapshot c0de2222 of 2026-01-12 10:00:00 (dump, copy of b2b2b2b2)\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
