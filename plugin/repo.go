package plugin

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

func newInitCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "init",
		Usage: "Create the project's restic repository",
		UsageText: "[OPTIONS]\n\n" +
			"The default local repository (backups/) is also created by the first up; any other one\n" +
			"(a folder elsewhere, s3:, sftp:, rest:…) only by init, so that a typo in a URL or an\n" +
			"unmounted disk never starts a new repository. With a remote engine (--context, -H,\n" +
			"DOCKER_HOST) a folder repository is on the engine's host, and init has the engine create it.",
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		return runInit(c.Context, d, load)
	})
}

func runInit(ctx context.Context, d *deps, load composeext.LoadOptions) error {
	return d.app().Init(ctx, load, func(o app.InitOutcome) {
		switch {
		case o.Err != nil:
			fmt.Fprintf(d.streams.Err, "copy %s: FAILED: %v\n", o.Copy, o.Err)
		case o.Copy != "" && o.Created:
			fmt.Fprintf(d.streams.Out, "created copy repository %s: %s (with the primary's chunker parameters)\n", o.Copy, o.Where)
		case o.Copy != "":
			fmt.Fprintf(d.streams.Out, "copy repository %s: %s already exists\n", o.Copy, o.Where)
		case o.Created:
			fmt.Fprintf(d.streams.Out, "created repository %s\n", o.Where)
		default:
			fmt.Fprintf(d.streams.Out, "repository %s already exists\n", o.Where)
		}
	})
}

func newForgetCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:      "forget",
		Usage:     "Apply the retention policy to the project's snapshots",
		UsageText: "[OPTIONS] [SERVICE...]",
		Flags: withRunFlags(
			&cli.BoolFlag{Name: "prune", Usage: "Also remove the data no snapshot needs any more"},
			&cli.BoolFlag{Name: "dry-run", Usage: "Show what would be removed, and remove nothing"},
			metricsFileFlag(),
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		return runForget(c.Context, d, app.ForgetOptions{Load: load, Services: c.Args().Slice(), Prune: c.Bool("prune"),
			DryRun: c.Bool("dry-run"), Run: readRunSettings(c), MetricsFile: c.String("metrics-file")})
	})
}

// runForget applies the retention and prints, per service, how many snapshots are kept
// and removed.
func runForget(ctx context.Context, d *deps, opts app.ForgetOptions) error {
	opts.Out = d.streams.Out
	opts.Forgotten = func(done []app.Forgotten) {
		tw := tabwriter.NewWriter(d.streams.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVICE\tKEEP\tREMOVE")
		for _, f := range done {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", f.Service, f.Keep, f.Remove)
		}
		_ = tw.Flush()
	}
	err := d.app().Forget(ctx, opts, warnings(d.streams.Err))
	if err == nil && opts.DryRun {
		fmt.Fprintln(d.streams.Out, "dry run: nothing was removed")
	}
	return err
}

func newCheckCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:      "check",
		Usage:     "Check the repository's integrity",
		UsageText: "[OPTIONS]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "read-data-subset", Usage: "Also read this part of the data (e.g. 10% or 1/5)"},
			metricsFileFlag(),
		},
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		return d.app().Check(c.Context, app.CheckOptions{Load: load, ReadData: c.String("read-data-subset"),
			MetricsFile: c.String("metrics-file"), Out: d.streams.Out}, warnings(d.streams.Err))
	})
}
