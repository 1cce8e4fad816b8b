package copies

import (
	"time"

	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// Standing is how a copy repository stands against the primary.
type Standing struct {
	// Newest is the newest snapshot the copy holds of the series (a copied snapshot
	// keeps its source's time); zero when it holds none.
	Newest *restic.Snapshot
	// Behind counts the primary's confirmed snapshots the copy does not hold yet and
	// that are newer than the copy's newest of their series.
	Behind int
	// Oldest is the oldest of those; zero when there is none.
	Oldest time.Time
	// Lag is how far the copy lags the primary at the time asked: the age of Oldest,
	// or zero when the copy holds every confirmed snapshot newer than its newest.
	Lag time.Duration
}

// Stand says how a copy holding held stands against the primary's confirmed snapshots
// source, at now. Per series (a machine's snapshots of a service: a retention group),
// a snapshot the copy lacks counts only when it is newer than the copy's newest of that
// series: an older one is one the copy's own retention forgot, or chose not to copy
// (wanted), never one it still has to get. So the lag is 0 right after a copy, and
// grows from the moment a backup the copy lacks was made: it is the age of the oldest
// backup that exists only in the primary.
func Stand(source, held []restic.Snapshot, now time.Time) Standing {
	var st Standing
	there := map[string]bool{}
	newest := map[string]time.Time{}
	for i, s := range held {
		there[s.ID] = true
		if s.Original != "" {
			there[s.Original] = true
		}
		k := seriesKey(s)
		if s.Time.After(newest[k]) {
			newest[k] = s.Time
		}
		if st.Newest == nil || s.Time.After(st.Newest.Time) {
			st.Newest = &held[i]
		}
	}
	for _, s := range source {
		if there[s.ID] || !s.Time.After(newest[seriesKey(s)]) {
			continue
		}
		st.Behind++
		if st.Oldest.IsZero() || s.Time.Before(st.Oldest) {
			st.Oldest = s.Time
		}
	}
	if !st.Oldest.IsZero() {
		st.Lag = max(now.Sub(st.Oldest), 0)
	}
	return st
}

// seriesKey names a snapshot's series: its machine and service.
func seriesKey(s restic.Snapshot) string {
	return s.Hostname + "\x00" + snapshot.Parse(s).Service
}
