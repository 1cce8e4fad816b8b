package plugin

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

func newSnapshotsCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:      "snapshots",
		Usage:     "List the snapshots of the project's services, newest first",
		UsageText: "[OPTIONS] [SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "Print the snapshots as JSON"},
			copyFromFlag("List the snapshots of this copy repository (a `NAME` of x-backup.copies), with the IDs they were copied from"),
		},
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		rows, err := d.app().Snapshots(c.Context, load, c.Args().Slice(), c.String("from"), warnings(d.streams.Err))
		return show(c, d.streams.Out, rows, err, func() error { return writeSnapshotTable(d.streams.Out, rows) })
	})
}

// writeSnapshotTable writes the rows; copied snapshots (a copy repository's) get a
// COPIED FROM column with the short ID of the snapshot each was copied from.
func writeSnapshotTable(w io.Writer, rows []app.SnapshotRow) error {
	copied := slices.ContainsFunc(rows, func(r app.SnapshotRow) bool { return r.Original != "" })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "ID\tTIME\tSERVICE\tSTRATEGY\tHOLDS\tADDED"
	if copied {
		head = "ID\tCOPIED FROM\tTIME\tSERVICE\tSTRATEGY\tHOLDS\tADDED"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		added := "-"
		if r.DataAdded != nil {
			added = humanBytes(*r.DataAdded)
		}
		id := r.ShortID
		if copied {
			from := "-"
			if r.Original != "" {
				from = r.Original[:min(8, len(r.Original))]
			}
			id += "\t" + from
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, r.Time.Local().Format("2006-01-02 15:04:05"), r.Service, r.Strategy, strings.Join(r.Paths, " "), added)
	}
	return tw.Flush()
}
