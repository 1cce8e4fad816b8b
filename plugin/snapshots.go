package plugin

import (
	"fmt"
	"io"
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
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "Print the snapshots as JSON"}},
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		rows, err := d.app().Snapshots(c.Context, load, c.Args().Slice(), warnings(d.streams.Err))
		return show(c, d.streams.Out, rows, err, func() error { return writeSnapshotTable(d.streams.Out, rows) })
	})
}

func writeSnapshotTable(w io.Writer, rows []app.SnapshotRow) error {
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
