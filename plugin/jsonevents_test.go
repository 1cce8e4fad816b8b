package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// TestJSONSinkLines checks the one line shape of up's and restore's --json: each event
// its fields, failures as error lines, warnings as lines or handed to warn.
func TestJSONSinkLines(t *testing.T) {
	var out bytes.Buffer
	var warned []string
	sink := newJSONSink(&out, nil)
	restoreSink := newJSONSink(&out, func(m string) { warned = append(warned, m) })

	sink.Event(app.Event{Kind: app.Started, Service: "db", Strategy: "dump"})
	sink.Event(app.Event{Kind: app.Done, Result: &report.Result{Service: "db", Strategy: "dump", Status: report.StatusOK,
		Duration: 2 * time.Second, Summary: restic.Summary{SnapshotID: "abc"}}})
	sink.Event(app.Event{Kind: app.Warning, Message: "retention skipped"})
	restoreSink.Event(app.Event{Kind: app.Started, Service: "files", Strategy: "volumes", Snapshot: &restic.Snapshot{ID: "def"}})
	restoreSink.Event(app.Event{Kind: app.Step, Service: "files", Message: "stopping files"})
	restoreSink.Event(app.Event{Kind: app.Warning, Message: "to stderr"})
	restoreSink.Event(app.Event{Kind: app.Done, Result: &report.Result{Service: "files", Status: report.StatusFailed,
		Err: errors.New("boom"), Rollbacks: []string{"rb"}}})
	sink.Event(app.Event{Kind: app.Ended})

	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, ok := m["time"]; !ok {
			t.Errorf("line %q has no time", l)
		}
		got = append(got, m)
	}
	want := []map[string]any{
		{"event": "start", "service": "db", "strategy": "dump"},
		{"event": "done", "service": "db", "status": "ok", "duration_seconds": 2.0},
		{"event": "warning"},
		{"event": "start", "service": "files", "snapshot": "def"},
		{"event": "step", "message": "stopping files"},
		{"event": "error", "status": "failed", "error": "boom"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out.String())
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("line %d: %s is %v, want %v", i+1, k, got[i][k], v)
			}
		}
	}
	if got[1]["summary"] == nil || got[2]["warnings"] == nil || got[5]["rollback_volumes"] == nil {
		t.Errorf("summary, warnings or rollback_volumes missing:\n%s", out.String())
	}
	if len(warned) != 1 || warned[0] != "to stderr" {
		t.Errorf("restore's warnings went to %v, not to warn", warned)
	}
}
