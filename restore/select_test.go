package restore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/restic"
)

func snap(id, at string) restic.Snapshot {
	t, _ := time.Parse(time.RFC3339, at)
	return restic.Snapshot{ID: id, ShortID: id[:min(8, len(id))], Time: t}
}

func TestSelectSnapshot(t *testing.T) {
	snaps := []restic.Snapshot{
		snap("abc111", "2026-01-10T10:00:00Z"),
		snap("abc222", "2026-01-12T10:00:00Z"),
		snap("def333", "2026-01-12T18:30:00Z"),
	}
	for _, tc := range []struct{ sel, want, err string }{
		{sel: "latest", want: "def333"},
		{sel: "def", want: "def333"},
		{sel: "ABC2", want: "abc222"},
		{sel: "abc", err: "ambiguous"},
		{sel: "2026-01-11", want: "abc111"},
		{sel: "2026-01-12", want: "def333"},
		{sel: "2026-01-12 18:29", want: "abc222"},
		{sel: "2026-01-12T18:30:00Z", want: "def333"},
		{sel: "2026-01-12T19:30:00+02:00", want: "abc222"},
		{sel: "2025-12-31", err: "no snapshot at or before"},
		{sel: "yesterday", err: "not latest"},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			got, err := selectSnapshot(snaps, Target{Service: "db", Snapshot: tc.sel}, time.UTC)
			if tc.err != "" {
				if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got.ID != tc.want {
				t.Fatalf("got %s, %v; want %s", got.ID, err, tc.want)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	for arg, want := range map[string]Target{
		"db": {"db", "latest"}, "db@latest": {"db", "latest"}, "db@ab12": {"db", "ab12"}, "db@2026-01-02 10:00": {"db", "2026-01-02 10:00"},
	} {
		if got, err := ParseTarget(arg); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %v, %v", arg, got, err)
		}
	}
	for _, bad := range []string{"", "@x", "db@"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
}

// A prefix that is not the service's own is looked up across the repository, so the
// message says whose it is.
func TestFindSnapshotOfAnotherService(t *testing.T) {
	all := `[{"id":"ffff9999","short_id":"ffff9999","time":"2026-01-10T10:00:00Z","hostname":"other","tags":["project=other","service=web"]}]`
	for name, tc := range map[string]struct{ all, want string }{
		"other":   {all, "belongs to project other, service web"},
		"missing": {"[]", "no snapshot ffff in the repository"},
	} {
		t.Run(name, func(t *testing.T) {
			r := &seqRunner{outs: []string{snapFiles, tc.all}}
			_, err := findSnapshot(context.Background(), r, "p", Target{Service: "files", Snapshot: "ffff"}, time.UTC)
			if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if got := strings.Join(r.argv[1], " "); got != "snapshots --json --no-lock" {
				t.Errorf("whole-repository lookup ran %q", got)
			}
		})
	}
}

// seqRunner replays its outputs in order.
type seqRunner struct {
	outs []string
	argv [][]string
}

func (s *seqRunner) Run(_ context.Context, inv restic.Invocation) error {
	out := s.outs[len(s.argv)]
	s.argv = append(s.argv, inv.Args)
	_, _ = inv.Stdout.Write([]byte(out))
	return nil
}
