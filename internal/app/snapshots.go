package app

import (
	"context"
	"slices"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// SnapshotRow is one snapshot as `snapshots` shows it.
type SnapshotRow struct {
	ID       string    `json:"id"`
	ShortID  string    `json:"short_id"`
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`
	Strategy string    `json:"strategy"`
	Host     string    `json:"host"`
	Paths    []string  `json:"paths"`
	Tags     []string  `json:"tags"`
	// Original is, in a copy repository, the ID of the snapshot this one was copied
	// from: the one the primary lists.
	Original string `json:"original,omitempty"`
	// DataAdded is what the snapshot added to the repository, when restic recorded it.
	DataAdded *uint64 `json:"data_added,omitempty"`
}

// Snapshots lists the confirmed snapshots of the named services (all when none),
// newest first, in the primary repository or in the copy repository named from.
func (a *App) Snapshots(ctx context.Context, load composeext.LoadOptions, services []string, from string, sink Sink) ([]SnapshotRow, error) {
	plan, err := LoadPlan(ctx, load, services)
	if err != nil {
		return nil, err
	}
	fromPlan, err := fromCopy(plan, from)
	if err != nil {
		return nil, err
	}
	plan = fromPlan
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	warnLeftovers(ctx, s.api, plan.Project, WarnFunc(sink))
	snaps, err := restic.Snapshots(ctx, s.runner, snapshot.ProjectFilter(s.identity))
	if err != nil {
		return nil, err
	}
	// A dump its run never confirmed may be cut short: it is never listed.
	return snapshotRows(snapshot.Confirmed(snaps), services), nil
}

// snapshotRows keeps the snapshots of the named services (all when none), newest first.
func snapshotRows(snaps []restic.Snapshot, services []string) []SnapshotRow {
	rows := []SnapshotRow{}
	for _, s := range snaps {
		info := snapshot.Parse(s)
		if len(services) > 0 && !slices.Contains(services, info.Service) {
			continue
		}
		row := SnapshotRow{ID: s.ID, ShortID: s.ShortID, Time: s.Time, Service: info.Service, Strategy: info.Strategy, Host: s.Hostname, Paths: s.Paths, Tags: s.Tags, Original: s.Original}
		if s.Summary != nil {
			added := s.Summary.DataAdded
			row.DataAdded = &added
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b SnapshotRow) int { return b.Time.Compare(a.Time) })
	return rows
}
