package restore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/internal/failure"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// ErrSnapshot is a snapshot selector that selects nothing, or more than one snapshot.
var ErrSnapshot = errors.New("no such snapshot")

// snapshotErrorf returns an ErrSnapshot with its own message.
func snapshotErrorf(format string, args ...any) error {
	return failure.Newf(ErrSnapshot, format, args...)
}

// Target is one argument of restore: SERVICE[@SNAPSHOT].
type Target struct {
	Service string
	// Snapshot is "latest", an ID or ID prefix, a date (2006-01-02), a date and time
	// (2006-01-02 15:04) or an RFC 3339 time.
	Snapshot string
}

// ParseTarget reads SERVICE[@SNAPSHOT]; no snapshot means the latest. A selector that
// is neither latest, hex digits (an ID or its prefix) nor a date or time that exists
// (2026-13-45 is none) is an error here, before anything is listed: bad input, where
// an ID that no snapshot has is found out later.
func ParseTarget(arg string) (Target, error) {
	svc, snap, found := strings.Cut(arg, "@")
	if svc == "" || found && snap == "" {
		return Target{}, fmt.Errorf("%q: want SERVICE or SERVICE@SNAPSHOT (latest, an ID or ID prefix, a date or time)", arg)
	}
	if !found {
		snap = "latest"
	}
	// Whether a text is a date does not depend on the zone it is read in.
	if _, err := SelectorIsID(snap, time.UTC); err != nil {
		return Target{}, fmt.Errorf("%s: %w", arg, err)
	}
	return Target{Service: svc, Snapshot: snap}, nil
}

// timeLayouts are the date forms a selector may take, with how much time each covers:
// a date selects the newest snapshot of that day, a minute the newest of that minute.
var timeLayouts = []struct {
	layout string
	span   time.Duration
}{
	{time.RFC3339Nano, 0},
	{"2006-01-02T15:04:05", time.Second},
	{"2006-01-02 15:04:05", time.Second},
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02 15:04", time.Minute},
	{"2006-01-02", 24 * time.Hour},
}

// parseTime reads a selector as a point in time: the end of the day or minute it names
// (times without a zone are local). ok is false when it is not a time.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	for _, l := range timeLayouts {
		t, err := time.ParseInLocation(l.layout, s, loc)
		if err != nil {
			continue
		}
		if l.span > 0 {
			t = t.Add(l.span - time.Nanosecond)
		}
		return t, true
	}
	return time.Time{}, false
}

// SelectorIsID reads a snapshot selector: true for an ID or ID prefix, false for latest
// or a date; an error (ErrSnapshot) for anything else.
func SelectorIsID(s string, loc *time.Location) (bool, error) {
	if _, ok := parseTime(s, loc); ok || s == "latest" {
		return false, nil
	}
	if !isHex(s) {
		if dateLike.MatchString(s) {
			return false, snapshotErrorf("%q is not a date or time that exists (want 2006-01-02, 2006-01-02 15:04 or RFC 3339)", s)
		}
		return false, snapshotErrorf("%q is not latest, a snapshot ID or a date (2006-01-02, 2006-01-02 15:04 or RFC 3339)", s)
	}
	return true, nil
}

// dateLike is a selector written as a date (2026-13-45), to say that its date is wrong
// rather than that it is no date.
var dateLike = regexp.MustCompile(`^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T]|$)`)

// isHex reports whether s could be a snapshot ID or prefix.
func isHex(s string) bool {
	return s != "" && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// selectSnapshot picks one of a service's snapshots (oldest first, as restic lists them).
func selectSnapshot(snaps []restic.Snapshot, t Target, loc *time.Location) (restic.Snapshot, error) {
	if len(snaps) == 0 {
		return restic.Snapshot{}, snapshotErrorf("service %s has no snapshot yet (run docker backup up %s)", t.Service, t.Service)
	}
	newest := func(keep func(restic.Snapshot) bool) (restic.Snapshot, bool) {
		var best restic.Snapshot
		var found bool
		for _, s := range snaps {
			if keep(s) && (!found || s.Time.After(best.Time)) {
				best, found = s, true
			}
		}
		return best, found
	}
	if t.Snapshot == "latest" {
		s, _ := newest(func(restic.Snapshot) bool { return true })
		return s, nil
	}
	if at, ok := parseTime(t.Snapshot, loc); ok {
		s, found := newest(func(s restic.Snapshot) bool { return !s.Time.After(at) })
		if !found {
			oldest := slices.MinFunc(snaps, func(a, b restic.Snapshot) int { return a.Time.Compare(b.Time) })
			return restic.Snapshot{}, snapshotErrorf("service %s has no snapshot at or before %s (the oldest is %s, %s)",
				t.Service, at.Format(time.RFC3339), oldest.ShortID, oldest.Time.Local().Format(time.RFC3339))
		}
		return s, nil
	}
	if !isHex(t.Snapshot) {
		return restic.Snapshot{}, snapshotErrorf("%q is not latest, a snapshot ID or a date (2006-01-02, 2006-01-02 15:04 or RFC 3339)", t.Snapshot)
	}
	var matches []restic.Snapshot
	for _, s := range snaps {
		if HasID(s, t.Snapshot) {
			matches = append(matches, s)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return restic.Snapshot{}, errNotFound
	}
	var cands []string
	for _, s := range matches {
		cands = append(cands, describeID(s))
	}
	return restic.Snapshot{}, snapshotErrorf("%q is ambiguous for service %s: it prefixes %s; give more of the ID",
		t.Snapshot, t.Service, strings.Join(cands, ", "))
}

// HasID reports whether prefix (hex digits, any case) prefixes the snapshot's ID or, in
// a copy repository, the ID of the snapshot it was copied from (restic's original):
// a user who knows the primary's snapshot ID can name it in the copy.
func HasID(s restic.Snapshot, prefix string) bool {
	p := strings.ToLower(prefix)
	return strings.HasPrefix(s.ID, p) || s.Original != "" && strings.HasPrefix(s.Original, p)
}

// describeID is the snapshot's short ID and time, with its source's ID when it is a copy.
func describeID(s restic.Snapshot) string {
	at := s.Time.Local().Format(time.RFC3339)
	if s.Original == "" {
		return fmt.Sprintf("%s (%s)", s.ShortID, at)
	}
	return fmt.Sprintf("%s (copy of %s, %s)", s.ShortID, s.Original[:min(8, len(s.Original))], at)
}

// errNotFound is an ID not among the service's snapshots; findSnapshot says more.
var errNotFound = errors.New("not found")

// findSnapshot lists the service's snapshots and selects one. An ID that is not the
// service's is looked up in the whole repository, to say whose it is.
func findSnapshot(ctx context.Context, r restic.Runner, id snapshot.Identity, t Target, loc *time.Location) (restic.Snapshot, error) {
	snaps, err := restic.Snapshots(ctx, r, snapshot.ServiceFilter(id, t.Service))
	if err != nil {
		return restic.Snapshot{}, err
	}
	// A dump its run never confirmed may be cut short: it is never restored.
	s, err := selectSnapshot(snapshot.Confirmed(snaps), t, loc)
	if !errors.Is(err, errNotFound) {
		return s, err
	}
	all, err := restic.Snapshots(ctx, r, restic.SnapshotFilter{})
	if err != nil {
		return restic.Snapshot{}, err
	}
	var owners []string
	for _, s := range all {
		if !HasID(s, t.Snapshot) {
			continue
		}
		if in := snapshot.Parse(s); !in.Confirmed && in.Service == t.Service && slices.Contains(id.Hosts(), s.Hostname) {
			return restic.Snapshot{}, snapshotErrorf("snapshot %s of service %s is unconfirmed: its run was interrupted before the dump was complete, so it is never restored", s.ShortID, t.Service)
		}
		owners = append(owners, fmt.Sprintf("%s belongs to %s", s.ShortID, snapshot.Owner(s)))
	}
	slices.Sort(owners)
	if len(owners) > 0 {
		return restic.Snapshot{}, snapshotErrorf("snapshot %s is not one of service %s of project %s on %s: %s",
			t.Snapshot, t.Service, id.Project, id.Machine, strings.Join(owners, "; "))
	}
	return restic.Snapshot{}, snapshotErrorf("no snapshot %s in the repository (docker backup snapshots %s lists them)", t.Snapshot, t.Service)
}
