package plugin

import (
	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

func newCopyCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "copy",
		Usage: "Copy the project's confirmed snapshots to its copy repositories (x-backup.copies; all, or those named)",
		UsageText: "[OPTIONS] [NAME...]\n\n" +
			"Each copy repository gets the confirmed snapshots of this machine's series (every series\n" +
			"with --all-hosts) that its retention keeps and it does not hold yet, then that retention;\n" +
			"one missing is created with the primary's chunker parameters. Nothing is ever forgotten\n" +
			"in the primary, and no lock is removed. Exit code 1 when any copy failed; the others\n" +
			"still run.",
		Flags: withRunFlags(
			&cli.BoolFlag{Name: "all-hosts", Usage: "Copy every machine's series of the project, not only this machine's"},
			&cli.BoolFlag{Name: "no-notify", Usage: "Send no x-backup.notify alerts"},
			&cli.BoolFlag{Name: "json", Usage: "Print one JSON event per line"},
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		_, err := d.app().Copy(c.Context, app.CopyOptions{
			Load: load, Names: c.Args().Slice(), AllHosts: c.Bool("all-hosts"),
			NoNotify: c.Bool("no-notify"), Run: readRunSettings(c),
		}, newCopyReporter(d.streams, c.Bool("json")))
		return err
	})
}
