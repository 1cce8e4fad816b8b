package plugin

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

func newUpCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "up",
		Usage: "Back up the project's services (all declared ones, or those named)",
		UsageText: "[OPTIONS] [SERVICE...]\n\n" +
			"Volumes are copied by a helper that mounts them read-only; dumps are streamed from the\n" +
			"service's own container into restic. Exit code 1 when any service failed; the others still run.",
		Flags: withRunFlags(
			&cli.IntFlag{Name: "parallel", Usage: "How many services are backed up at once (default: x-backup.parallel, else 2)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "Print the helpers that would run, and do nothing"},
			&cli.BoolFlag{Name: "no-forget", Usage: "Do not apply the retention policy after the backup"},
			&cli.BoolFlag{Name: "no-notify", Usage: "Send no x-backup.notify alerts and no x-backup.healthcheck pings"},
			&cli.BoolFlag{Name: "strict", Usage: "Fail (exit 1) when some files could not be read"},
			&cli.BoolFlag{Name: "json", Usage: "Print one JSON event per line"},
			metricsFileFlag(),
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		if c.Bool("dry-run") {
			lines, err := d.app().DryRun(c.Context, load, c.Args().Slice())
			for _, l := range lines {
				fmt.Fprintln(d.streams.Out, l)
			}
			return err
		}
		_, err := d.app().Up(c.Context, app.UpOptions{
			Load: load, Services: c.Args().Slice(), Parallel: c.Int("parallel"),
			NoForget: c.Bool("no-forget"), NoNotify: c.Bool("no-notify"), Strict: c.Bool("strict"),
			Run: readRunSettings(c), MetricsFile: c.String("metrics-file"),
		}, newReporter(d.streams, c.Bool("json")))
		return err
	})
}
