package plugin

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/verify"
)

// verifyOptions holds the verify command's flags and dependencies.
type verifyOptions struct {
	verify app.VerifyOptions
	json   bool
	d      *deps
}

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
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		if c.Int("parallel") < 1 || c.Duration("timeout") <= 0 {
			return usageErrorf("--parallel must be at least 1 and --timeout positive")
		}
		return runVerify(c.Context, &verifyOptions{
			verify: app.VerifyOptions{
				Load: load, Services: c.Args().Slice(),
				Drill:    verify.Options{Snapshot: c.String("snapshot"), Keep: c.Bool("keep"), Parallel: c.Int("parallel"), Timeout: c.Duration("timeout")},
				NoNotify: c.Bool("no-notify"), Run: readRunSettings(c), MetricsFile: c.String("metrics-file"),
			},
			json: c.Bool("json"), d: d,
		})
	})
}

// runVerify drills, its steps on stderr, then prints the results (a table, or one JSON
// document) on stdout when the drill ran to its end, failed services included.
func runVerify(ctx context.Context, opts *verifyOptions) error {
	progress := &verifyProgress{out: opts.d.streams.Err}
	results, err := opts.d.app().Verify(ctx, opts.verify, progress)
	if results == nil {
		return err
	}
	if opts.json {
		if err := writeVerifyJSON(opts.d.streams.Out, progress.project, results); err != nil {
			return err
		}
	} else {
		writeVerifyTable(opts.d.streams.Out, results)
	}
	return err
}
