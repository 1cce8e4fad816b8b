package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// snapshotsOptions holds the snapshots command's flags and dependencies.
type snapshotsOptions struct {
	load     composeext.LoadOptions
	services []string
	json     bool
	d        *deps
}

func newSnapshotsCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "snapshots",
		Usage:     "List the snapshots of the project's services, newest first",
		UsageText: appName(d) + " snapshots [OPTIONS] [SERVICE...]",
		Flags:     withProjectFlags(&cli.BoolFlag{Name: "json", Usage: "Print the snapshots as JSON"}),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runSnapshots(c.Context, &snapshotsOptions{load: load, services: c.Args().Slice(), json: c.Bool("json"), d: d})
		},
	}
}

// snapshotRow is one snapshot as `snapshots` shows it.
type snapshotRow struct {
	ID       string    `json:"id"`
	ShortID  string    `json:"short_id"`
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`
	Strategy string    `json:"strategy"`
	Host     string    `json:"host"`
	Paths    []string  `json:"paths"`
	Tags     []string  `json:"tags"`
	// DataAdded is what the snapshot added to the repository, when restic recorded it.
	DataAdded *uint64 `json:"data_added,omitempty"`
}

func runSnapshots(ctx context.Context, opts *snapshotsOptions) error {
	plan, err := loadPlan(ctx, opts.load, opts.services)
	if err != nil {
		return err
	}
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return err
	}
	warnLeftovers(ctx, s.api, plan.Project, warnTo(opts.d.streams.Err))
	snaps, err := restic.Snapshots(ctx, s.runner, snapshot.ProjectFilter(s.identity))
	if err != nil {
		return err
	}
	// A dump its run never confirmed may be cut short: it is never listed.
	rows := snapshotRows(snapshot.Confirmed(snaps), opts.services)
	if opts.json {
		enc := json.NewEncoder(opts.d.streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	return writeSnapshotTable(opts.d.streams.Out, rows)
}

// snapshotRows keeps the snapshots of the named services (all when none), newest first.
func snapshotRows(snaps []restic.Snapshot, services []string) []snapshotRow {
	rows := []snapshotRow{}
	for _, s := range snaps {
		info := snapshot.Parse(s)
		if len(services) > 0 && !slices.Contains(services, info.Service) {
			continue
		}
		row := snapshotRow{ID: s.ID, ShortID: s.ShortID, Time: s.Time, Service: info.Service, Strategy: info.Strategy, Host: s.Hostname, Paths: s.Paths, Tags: s.Tags}
		if s.Summary != nil {
			added := s.Summary.DataAdded
			row.DataAdded = &added
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b snapshotRow) int { return b.Time.Compare(a.Time) })
	return rows
}

func writeSnapshotTable(w io.Writer, rows []snapshotRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSERVICE\tSTRATEGY\tHOLDS\tADDED")
	for _, r := range rows {
		added := "-"
		if r.DataAdded != nil {
			added = humanBytes(*r.DataAdded)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ShortID, r.Time.Local().Format("2006-01-02 15:04:05"), r.Service, r.Strategy, strings.Join(r.Paths, " "), added)
	}
	return tw.Flush()
}
