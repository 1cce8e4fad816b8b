package copies

import (
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/restic"
)

func snapAt(id, svc string, at time.Time, original string) restic.Snapshot {
	return restic.Snapshot{ID: id, Hostname: "shop@m1", Time: at, Original: original, Tags: []string{"project=shop", "service=" + svc}}
}

func TestStand(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	now := t0.Add(50 * time.Hour)
	source := []restic.Snapshot{
		snapAt("a1", "db", t0, ""),
		snapAt("a2", "db", t0.Add(24*time.Hour), ""),
		snapAt("a3", "db", t0.Add(48*time.Hour), ""),
		snapAt("b1", "files", t0, ""),
		snapAt("b2", "files", t0.Add(24*time.Hour), ""),
	}
	for _, tc := range []struct {
		name   string
		held   []restic.Snapshot
		newest string
		behind int
		lag    time.Duration
	}{
		{"empty copy: every snapshot is behind", nil, "", 5, 50 * time.Hour},
		{"up to date", []restic.Snapshot{
			snapAt("c2", "db", t0.Add(24*time.Hour), "a2"), snapAt("c3", "db", t0.Add(48*time.Hour), "a3"),
			snapAt("d2", "files", t0.Add(24*time.Hour), "b2"),
		}, "c3", 0, 0},
		{"older snapshots its retention forgot do not count; the newest missing does", []restic.Snapshot{
			snapAt("c2", "db", t0.Add(24*time.Hour), "a2"), snapAt("d2", "files", t0.Add(24*time.Hour), "b2"),
		}, "c2", 1, 2 * time.Hour},
		{"a series the copy lacks entirely counts from its oldest", []restic.Snapshot{
			snapAt("c3", "db", t0.Add(48*time.Hour), "a3"),
		}, "c3", 2, 50 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := Stand(source, tc.held, now)
			newest := ""
			if st.Newest != nil {
				newest = st.Newest.ID
			}
			if newest != tc.newest || st.Behind != tc.behind || st.Lag != tc.lag {
				t.Errorf("got newest %q, behind %d, lag %s; want %q, %d, %s", newest, st.Behind, st.Lag, tc.newest, tc.behind, tc.lag)
			}
		})
	}
}
