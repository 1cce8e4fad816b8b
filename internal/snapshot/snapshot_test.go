package snapshot

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/restic"
)

var shop = Identity{Project: "shop", Machine: "m1"}

func TestIdentityHosts(t *testing.T) {
	if got := shop.Host(); got != "shop@m1" {
		t.Errorf("Host %q", got)
	}
	if got := shop.Hosts(); !slices.Equal(got, []string{"shop@m1", "shop"}) {
		t.Errorf("Hosts %v, want the host, then the legacy host", got)
	}
}

func TestFilters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     restic.SnapshotFilter
		hosts []string
		tags  []string
	}{
		{"project", ProjectFilter(shop), []string{"shop@m1", "shop"}, []string{"project=shop"}},
		{"service", ServiceFilter(shop, "db"), []string{"shop@m1", "shop"}, []string{"project=shop", "service=db"}},
		// Legacy snapshots never carry the tag: only this machine's host.
		{"unconfirmed", UnconfirmedFilter(shop), []string{"shop@m1"}, []string{"project=shop", "unconfirmed"}},
	} {
		if !slices.Equal(tc.f.Hosts, tc.hosts) || !slices.Equal(tc.f.Tags, tc.tags) {
			t.Errorf("%s filter %+v, want hosts %v tags %v", tc.name, tc.f, tc.hosts, tc.tags)
		}
	}
}

func TestTagsAndPaths(t *testing.T) {
	got := ServiceTags("shop", "files", "volumes", []string{"data", "uploads"})
	want := []string{"project=shop", "service=files", "strategy=volumes", "volume=data", "volume=uploads"}
	if !slices.Equal(got, want) {
		t.Errorf("ServiceTags %v, want %v", got, want)
	}
	if got := RunTag("0123456789"); got != "run=0123456789" {
		t.Errorf("RunTag %q", got)
	}
	if got := VolumePath("files", "data"); got != "/backup/files/data" {
		t.Errorf("VolumePath %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags []string
		want Info
	}{
		{"confirmed dump", []string{"project=shop", "service=db", "strategy=dump", "run=abc"}, Info{Project: "shop", Service: "db", Strategy: "dump", Run: "abc", Confirmed: true}},
		{"unconfirmed dump", []string{"project=shop", "service=db", "strategy=dump", "run=abc", "unconfirmed"}, Info{Project: "shop", Service: "db", Strategy: "dump", Run: "abc"}},
		{"legacy", []string{"project=shop", "service=files"}, Info{Project: "shop", Service: "files", Confirmed: true}},
		// A tag that only begins like ours is not ours.
		{"lookalike", []string{"projects=x", "service", "unconfirmed=no"}, Info{Confirmed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Parse(restic.Snapshot{Tags: tc.tags}); got != tc.want {
				t.Errorf("Parse %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConfirmed(t *testing.T) {
	snaps := []restic.Snapshot{
		{ID: "a", Tags: []string{"project=shop"}},
		{ID: "b", Tags: []string{"project=shop", Unconfirmed}},
		{ID: "c", Tags: nil},
	}
	got := Confirmed(snaps)
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"a", "c"}) {
		t.Errorf("confirmed %v, want a and c", ids)
	}
	if len(snaps) != 3 || snaps[1].ID != "b" {
		t.Errorf("Confirmed changed its input: %+v", snaps)
	}
}

func TestOwner(t *testing.T) {
	for _, tc := range []struct {
		s    restic.Snapshot
		want string
	}{
		{restic.Snapshot{Hostname: "shop@m1", Tags: []string{"project=shop", "service=db"}}, "project shop, service db on m1"},
		{restic.Snapshot{Hostname: "shop", Tags: []string{"project=shop", "service=db"}}, "project shop, service db"},
		{restic.Snapshot{Hostname: "laptop"}, "project laptop, service ?"},
		{restic.Snapshot{Hostname: "other@m2", Tags: []string{"project=shop", "service=web"}}, "project shop, service web"},
	} {
		if got := Owner(tc.s); got != tc.want {
			t.Errorf("Owner(%s %v) = %q, want %q", tc.s.Hostname, tc.s.Tags, got, tc.want)
		}
	}
}

// A service's latest snapshot is its newest confirmed one, whichever node took it; a
// snapshot without a summary is taken to hold files.
func TestLatestOf(t *testing.T) {
	at := func(day int) time.Time { return time.Date(2026, 12, day, 3, 0, 0, 0, time.UTC) }
	snaps := []restic.Snapshot{
		{ID: "a", Time: at(1), Tags: []string{"service=files", "node=worker-1"}},
		{ID: "b", Time: at(3), Tags: []string{"service=files", "node=worker-2", Unconfirmed}},
		{ID: "c", Time: at(2), Tags: []string{"service=files", "node=worker-1"}},
		{ID: "d", Time: at(4), Tags: []string{"service=db", "node=worker-2"}},
	}
	got, ok := LatestOf(snaps, "files")
	if !ok || got.ID != "c" || Parse(got).Node != "worker-1" || !HeldFiles(got) {
		t.Errorf("latest of files %+v %v, want c on worker-1", got, ok)
	}
	if _, ok := LatestOf(snaps, "cache"); ok {
		t.Error("a service without snapshots has a latest one")
	}
	var empty restic.Snapshot
	if err := json.Unmarshal([]byte(`{"id":"e","summary":{"total_files_processed":0}}`), &empty); err != nil {
		t.Fatal(err)
	}
	if HeldFiles(empty) {
		t.Error("a snapshot of no files holds files")
	}
}
