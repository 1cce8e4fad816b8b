package snapshot

import (
	"slices"
	"testing"

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
