package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/report"
)

// upOptions holds the up command's flags and dependencies.
type upOptions struct {
	load     composeext.LoadOptions
	services []string
	parallel int
	dryRun   bool
	noForget bool
	noNotify bool
	strict   bool
	json     bool
	run      runSettings
	metrics  *metricsFile
	d        *deps
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
				run:      readRunSettings(c),
				load:     load,
				services: c.Args().Slice(),
				parallel: c.Int("parallel"),
				dryRun:   c.Bool("dry-run"),
				noForget: c.Bool("no-forget"),
				noNotify: c.Bool("no-notify"),
				strict:   c.Bool("strict"),
				json:     c.Bool("json"),
				metrics:  newMetricsFile(c.String("metrics-file")),
				d:        d,
			})
		},
	}
}

func runUp(ctx context.Context, opts *upOptions) error {
	plan, err := loadPlan(ctx, opts.load, opts.services)
	if err != nil {
		return err
	}
	if opts.dryRun {
		return printDryRun(opts.d.streams.Out, plan)
	}
	reporter := newReporter(opts.d.streams, opts.json)
	alerts := newRunNotifier(plan, opts.noNotify, reporter.Warn)
	alerts.start(ctx)
	results, rep, err := backupPlan(ctx, opts, plan, reporter)
	// Before Finish: a live terminal's warnings are drawn above the summary table.
	alerts.done(ctx, rep)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		reporter.Finish(results)
	}
	opts.metrics.write(rep, warnTo(opts.d.streams.Err))
	if err != nil {
		return err
	}
	var failed, warned []string
	for _, r := range results {
		switch r.Status {
		case backup.StatusFailed:
			failed = append(failed, r.Service)
		case backup.StatusWarning:
			warned = append(warned, r.Service)
		}
	}
	switch {
	case len(failed) > 0:
		return &exitCodeError{code: ExitFailure, msg: fmt.Sprintf("backup failed for %s", strings.Join(failed, ", "))}
	case opts.strict && len(warned) > 0:
		return &exitCodeError{code: ExitFailure, msg: fmt.Sprintf("some files could not be read for %s (--strict)", strings.Join(warned, ", "))}
	}
	return nil
}

// backupPlan backs up the plan's services in one run and says how it ended. err is the
// command's own failure (no run could begin); a service's failure is in its result.
func backupPlan(ctx context.Context, opts *upOptions, plan *composeext.Plan, reporter upReporter) ([]backup.Result, report.Run, error) {
	rep := report.Run{Command: "up", Project: plan.Project, Started: time.Now()}
	// Every line up shows, on the console, in --json or in the scheduler's log, is masked.
	results, err := backupServices(ctx, opts, plan, maskedUpReporter{inner: reporter, mask: plan.Mask}, &rep)
	err = maskError(err, plan.Mask)
	rep.Duration = time.Since(rep.Started)
	rep.Services = backup.Report(results, plan.Mask)
	if err != nil {
		rep.Error = plan.Mask(report.OneLine(err.Error()))
	}
	rep.Status = report.Overall(err, rep.Services)
	return results, rep, err
}

// backupServices connects, begins the run and backs up; rep gets the machine's name.
func backupServices(ctx context.Context, opts *upOptions, plan *composeext.Plan, reporter upReporter, rep *report.Run) ([]backup.Result, error) {
	parallel := opts.parallel
	if parallel <= 0 {
		parallel = plan.Parallel
	}
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return nil, err
	}
	rep.Machine = s.identity.Machine
	// Before any goroutine shares the plan: what the services' containers hold is masked
	// too.
	addContainerSecrets(ctx, s.api, plan)
	// Only the default local repository is created on first use (see repository).
	r, err := s.begin(ctx, plan, "up", opts.run, beginOptions{initLocal: plan.Repository.Default, mounts: backup.RunMounts(plan)}, reporter.Warn)
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	results := backup.Up(ctx, backup.Env{Run: r, Plan: plan, Reporter: reporter}, backup.Options{
		Parallel: parallel,
		NoForget: opts.noForget,
	})
	opts.metrics.gather(ctx, r.Runner, r.Identity, func(msg string) { reporter.Warn(plan.Mask(msg)) })
	return results, nil
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
