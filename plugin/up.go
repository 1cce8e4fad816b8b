package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

// upOptions holds the up command's flags and dependencies.
type upOptions struct {
	up     app.UpOptions
	dryRun bool
	json   bool
	d      *deps
}

func newUpCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "up",
		Usage: "Back up the project's services (all declared ones, or those named)",
		UsageText: appName(d) + " up [OPTIONS] [SERVICE...]\n\n" +
			"Volumes are copied by a helper that mounts them read-only; dumps are streamed from the\n" +
			"service's own container into restic. Exit code 1 when any service failed; the others still run.",
		Flags: append(withProjectFlags(
			&cli.IntFlag{Name: "parallel", Usage: "How many services are backed up at once (default: x-backup.parallel, else 2)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "Print the helpers that would run, and do nothing"},
			&cli.BoolFlag{Name: "no-forget", Usage: "Do not apply the retention policy after the backup"},
			&cli.BoolFlag{Name: "no-notify", Usage: "Send no x-backup.notify alerts and no x-backup.healthcheck pings"},
			&cli.BoolFlag{Name: "strict", Usage: "Fail (exit 1) when some files could not be read"},
			&cli.BoolFlag{Name: "json", Usage: "Print one JSON event per line"},
			metricsFileFlag(),
		), runFlags()...),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runUp(c.Context, &upOptions{
				up: app.UpOptions{
					Load: load, Services: c.Args().Slice(), Parallel: c.Int("parallel"),
					NoForget: c.Bool("no-forget"), NoNotify: c.Bool("no-notify"), Strict: c.Bool("strict"),
					Run: readRunSettings(c), MetricsFile: c.String("metrics-file"),
				},
				dryRun: c.Bool("dry-run"),
				json:   c.Bool("json"),
				d:      d,
			})
		},
	}
}

func runUp(ctx context.Context, opts *upOptions) error {
	if opts.dryRun {
		plan, err := app.LoadPlan(ctx, opts.up.Load, opts.up.Services)
		if err != nil {
			return err
		}
		return printDryRun(opts.d.streams.Out, plan)
	}
	return opts.d.app().Up(ctx, opts.up, newReporter(opts.d.streams, opts.json))
}

// printDryRun shows what up would do, without touching the engine or the repository.
func printDryRun(w io.Writer, plan *composeext.Plan) error {
	plan = plan.Masked()
	fmt.Fprintf(w, "repository %s, helper image %s, snapshots of host %s@<this machine>\n", plan.Repository.Where(), plan.Image, plan.Project)
	for _, s := range plan.Services {
		switch s.Strategy {
		case composeext.StrategyNone:
			fmt.Fprintf(w, "%s: skipped (strategy none)\n", s.Name)
		case composeext.StrategyVolumes:
			if s.Stop {
				fmt.Fprintf(w, "%s: stop the service's containers\n", s.Name)
			}
			var paths []string
			for _, m := range s.Volumes {
				fmt.Fprintf(w, "%s: mount %s %s read-only at %s\n", s.Name, m.Type, m.Source, m.Path)
				paths = append(paths, m.Path)
			}
			fmt.Fprintf(w, "%s: run helper: restic backup %s %s\n", s.Name, tagArgs(s.Tags), strings.Join(paths, " "))
			if s.Stop {
				fmt.Fprintf(w, "%s: start the service's containers again\n", s.Name)
			}
		case composeext.StrategyDump:
			fmt.Fprintf(w, "%s: exec in the service container: %s\n", s.Name, shortCommand(s.Dump.Command))
			fmt.Fprintf(w, "%s: run helper: restic backup %s --stdin-from-command --stdin-filename %s (committed only when the dump exited 0 and is whole)\n", s.Name, tagArgs(s.Tags), s.Dump.Filename)
		}
	}
	return nil
}

func tagArgs(tags []string) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("--tag " + t)
	}
	return b.String()
}

// shortCommand shows a command briefly: the script of `sh -c`, else the argv.
func shortCommand(cmd []string) string {
	if len(cmd) == 3 && cmd[1] == "-c" {
		return cmd[2]
	}
	return strings.Join(cmd, " ")
}
