package plugin

import (
	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/verify"
)

func newVerifyCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "verify",
		Usage: "Prove that the services' latest backups restore, in throwaway copies of the services",
		UsageText: "[OPTIONS] [SERVICE...]\n\n" +
			"A restore drill. Dumps: a throwaway copy of the service's container (same image and\n" +
			"configuration, fresh volumes, no network, throwaway passwords) loads the dump, then\n" +
			"x-backup.verify (or the preset's check) runs in it. Volumes: the snapshot is restored into\n" +
			"throwaway volumes and compared with the snapshot, then x-backup.verify runs on them.\n" +
			"The live services are never stopped or written. Exit code 1 when any drill failed.",
		Flags: withRunFlags(
			&cli.StringFlag{Name: "snapshot", Usage: "Drill this snapshot instead of the latest: an `ID` or ID prefix (of the one SERVICE named), or a date (2006-01-02, 2006-01-02 15:04, RFC 3339: each service's newest at or before it)"},
			&cli.BoolFlag{Name: "json", Usage: "Print the results as one JSON document"},
			&cli.BoolFlag{Name: "keep", Usage: "Leave the throwaway containers and volumes for inspection, and print how to remove them"},
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "How many services are drilled at once"},
			&cli.DurationFlag{Name: "timeout", Value: verify.DefaultTimeout, Usage: "Fail a service's drill that takes longer"},
			&cli.BoolFlag{Name: "no-notify", Usage: "Send no x-backup.notify alerts"},
			metricsFileFlag(),
			copyFromFlag("Drill the snapshots of this copy repository (a `NAME` of x-backup.copies) instead of the primary's"),
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		if c.Int("parallel") < 1 || c.Duration("timeout") <= 0 {
			return usageErrorf("--parallel must be at least 1 and --timeout positive")
		}
		// The drill's steps go to stderr; the results (a table, or one JSON document) to
		// stdout when the drill ran to its end, failed services included.
		progress := &verifyProgress{out: d.streams.Err}
		results, err := d.app().Verify(c.Context, app.VerifyOptions{
			Load: load, Services: c.Args().Slice(), From: c.String("from"),
			Drill:    verify.Options{Snapshot: c.String("snapshot"), Keep: c.Bool("keep"), Parallel: c.Int("parallel"), Timeout: c.Duration("timeout")},
			NoNotify: c.Bool("no-notify"), Run: readRunSettings(c), MetricsFile: c.String("metrics-file"),
		}, progress)
		switch {
		case results == nil:
			return err
		case c.Bool("json"):
			if werr := writeVerifyJSON(d.streams.Out, progress.project, results); werr != nil {
				return werr
			}
			return err
		}
		writeVerifyTable(d.streams.Out, results)
		return err
	})
}
