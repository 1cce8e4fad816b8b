package restore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
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
	// A selector that is no ID, no date and not latest is bad input, said in one line
	// that names the argument; an ID no snapshot has is found out later.
	for _, bad := range []string{"db@zzzz", "db@2026-13-45", "db@2026-02-30", "db@yesterday", "db@ab12 ", "db@2026-01-02 25:00"} {
		_, err := ParseTarget(bad)
		if err == nil || !errors.Is(err, ErrSnapshot) || !strings.HasPrefix(err.Error(), bad+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseTarget(%q): %v; want one line beginning %q", bad, err, bad+": ")
		}
	}
}

// A prefix that is not the service's own is looked up across the repository, so the
// message says whose it is.
func TestFindSnapshotOfAnotherService(t *testing.T) {
	all := `[{"id":"ffff9999","short_id":"ffff9999","time":"2026-01-10T10:00:00Z","hostname":"other@m2","tags":["project=other","service=web"]}]`
	for name, tc := range map[string]struct{ all, want string }{
		"other":   {all, "belongs to project other, service web on m2"},
		"missing": {"[]", "no snapshot ffff in the repository"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner()
			f.rst.On("snapshots", func(c enginetest.Call) enginetest.Reply {
				if strings.Contains(c.String(), "--tag") {
					return enginetest.Reply{Stdout: snapFiles}
				}
				return enginetest.Reply{Stdout: tc.all}
			})
			_, err := findSnapshot(context.Background(), r, identity, Target{Service: "files", Snapshot: "ffff"}, time.UTC)
			if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			want := []string{"snapshots --json --no-lock --host p@m1 --host p --tag project=p,service=files", "snapshots --json --no-lock"}
			if got := f.rst.Commands(); !slices.Equal(got, want) {
				t.Errorf("restic ran %q, want the service's snapshots, then the whole repository's", got)
			}
		})
	}
}

// A dump its run never confirmed is never selected, however it is named.
func TestFindSnapshotNeverSelectsUnconfirmed(t *testing.T) {
	const snaps = `[{"id":"bbbb1111","short_id":"bbbb1111","time":"2026-01-10T10:00:00Z","hostname":"p@m1","paths":["/db.sql"],"tags":["project=p","service=db","strategy=dump","run=r1"]},
{"id":"bbbb2222","short_id":"bbbb2222","time":"2026-01-12T10:00:00Z","hostname":"p@m1","paths":["/db.sql"],"tags":["project=p","service=db","strategy=dump","run=r2","unconfirmed"]}]`
	for _, tc := range []struct {
		sel, want, err string
	}{
		{sel: "latest", want: "bbbb1111"},
		{sel: "2026-01-12", want: "bbbb1111"},
		{sel: "bbbb", want: "bbbb1111"}, // not ambiguous: the unconfirmed one does not count
		{sel: "bbbb2222", err: "snapshot bbbb2222 of service db is unconfirmed"},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			f := newFixture(t)
			f.rst.Reply("snapshots", enginetest.Reply{Stdout: snaps})
			got, err := findSnapshot(context.Background(), f.runner(), identity, Target{Service: "db", Snapshot: tc.sel}, time.UTC)
			if tc.err != "" {
				if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %s, %v; want %q", got.ID, err, tc.err)
				}
				return
			}
			if err != nil || got.ID != tc.want {
				t.Fatalf("got %s, %v; want %s", got.ID, err, tc.want)
			}
		})
	}
	f := newFixture(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: `[{"id":"bbbb2222","short_id":"bbbb2222","time":"2026-01-12T10:00:00Z","hostname":"p@m1","paths":["/db.sql"],"tags":["project=p","service=db","unconfirmed"]}]`})
	if _, err := findSnapshot(context.Background(), f.runner(), identity, Target{Service: "db", Snapshot: "latest"}, time.UTC); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "has no snapshot yet") {
		t.Errorf("err %v, want no snapshot when the only one is unconfirmed", err)
	}
}

// In a copy repository a snapshot is named by its own ID or by the ID of the snapshot
// it was copied from (restic's original), which is what the primary's listing showed.
func TestSelectSnapshotInCopy(t *testing.T) {
	copied := func(id, original, at string) restic.Snapshot {
		s := snap(id, at)
		s.Original = original
		return s
	}
	snaps := []restic.Snapshot{
		copied("c0de1111", "a1a1a1a1", "2026-01-10T10:00:00Z"),
		copied("c0de2222", "b2b2b2b2", "2026-01-12T10:00:00Z"),
		copied("e3e3e3e3", "c0de3333", "2026-01-13T10:00:00Z"),
	}
	for _, tc := range []struct{ sel, want, err string }{
		{sel: "latest", want: "e3e3e3e3"},
		{sel: "c0de2222", want: "c0de2222"},
		{sel: "B2B2", want: "c0de2222"},
		{sel: "a1a1a1a1", want: "c0de1111"},
		{sel: "2026-01-11", want: "c0de1111"},
		{sel: "c0de", err: "c0de1111 (copy of a1a1a1a1"},
		{sel: "c0de3", want: "e3e3e3e3"},
		{sel: "ffff", err: "not found"},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			got, err := selectSnapshot(snaps, Target{Service: "db", Snapshot: tc.sel}, time.UTC)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
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
