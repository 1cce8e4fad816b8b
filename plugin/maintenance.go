package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// repoOptions holds the flags and dependencies of the repository commands: init, forget, check.
type repoOptions struct {
	load     composeext.LoadOptions
	services []string
	prune    bool
	dryRun   bool
	readData string
	metrics  *metricsFile
	run      runSettings
	d        *deps
}

func newInitCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "Create the project's restic repository",
		UsageText: appName(d) + " init [OPTIONS]\n\n" +
			"The default local repository (backups/) is also created by the first up; any other one\n" +
			"(a folder elsewhere, s3:, sftp:, rest:…) only by init, so that a typo in a URL or an\n" +
			"unmounted disk never starts a new repository. With a remote engine (--context, -H,\n" +
			"DOCKER_HOST) a folder repository is on the engine's host, and init has the engine create it.",
		Flags: withProjectFlags(),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runInit(c.Context, &repoOptions{load: load, d: d})
		},
	}
}

func runInit(ctx context.Context, opts *repoOptions) error {
	plan, err := loadPlan(ctx, opts.load, nil)
	if err != nil {
		return err
	}
	where := plan.Repository.Where()
	if plan.Repository.Local && !plan.Repository.OnEngine() {
		if err := os.MkdirAll(plan.Repository.URL, 0o700); err != nil {
			return fmt.Errorf("creating the repository folder: %w", err)
		}
	}
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return err
	}
	// A folder of a remote engine's host is created there, by the engine, when the
	// helpers mount it; restic then creates the repository inside it.
	s.runner.Repo.CreateFolder = plan.Repository.OnEngine()
	exists, err := restic.Open(ctx, s.runner)
	if err != nil {
		return fmt.Errorf("repository %s: %w", where, err)
	}
	if exists {
		fmt.Fprintf(opts.d.streams.Out, "repository %s already exists\n", where)
		return nil
	}
	if err := restic.Init(ctx, s.runner); err != nil {
		return fmt.Errorf("repository %s: %w", where, err)
	}
	fmt.Fprintf(opts.d.streams.Out, "created repository %s\n", where)
	return nil
}

func newForgetCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "forget",
		Usage:     "Apply the retention policy to the project's snapshots",
		UsageText: appName(d) + " forget [OPTIONS] [SERVICE...]",
		Flags: append(withProjectFlags(
			&cli.BoolFlag{Name: "prune", Usage: "Also remove the data no snapshot needs any more"},
			&cli.BoolFlag{Name: "dry-run", Usage: "Show what would be removed, and remove nothing"},
			metricsFileFlag(),
		), runFlags()...),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runForget(c.Context, &repoOptions{load: load, services: c.Args().Slice(), prune: c.Bool("prune"),
				dryRun: c.Bool("dry-run"), run: readRunSettings(c), metrics: newMetricsFile(c.String("metrics-file")), d: d})
		},
	}
}

func runForget(ctx context.Context, opts *repoOptions) error {
	plan, err := loadPlan(ctx, opts.load, opts.services)
	if err != nil {
		return err
	}
	var todo []composeext.ServicePlan
	for _, s := range plan.Services {
		if s.Strategy != composeext.StrategyNone && !backup.KeepPolicy(s.Retention).Empty() {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return forgetWithoutPolicy(ctx, opts, plan)
	}
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return err
	}
	// A run: retention must not see a dump that an interrupted run left unconfirmed.
	r, err := s.begin(ctx, plan, "forget", opts.run, beginOptions{}, warnTo(opts.d.streams.Err))
	if err != nil {
		return err
	}
	defer r.End(ctx)
	if r.UnconfirmedLeft() {
		return fmt.Errorf("retention not applied: unconfirmed snapshots of an interrupted run are still in the repository and would be counted; run forget again once the repository is not locked")
	}
	tw := tabwriter.NewWriter(opts.d.streams.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tKEEP\tREMOVE")
	for _, svc := range todo {
		groups, err := restic.Forget(ctx, r.Runner, restic.ForgetOptions{
			Filter: snapshot.ServiceFilter(r.Identity, svc.Name), GroupBy: snapshot.GroupBy,
			Keep: backup.KeepPolicy(svc.Retention), DryRun: opts.dryRun,
		})
		if errors.Is(err, restic.ErrLocked) {
			// forget's whole job: exit 1, but say what was done and that nothing is
			// lost by waiting (up warns and goes on instead: its backups are made).
			_ = tw.Flush()
			return fmt.Errorf("retention of %s not applied (nor of the services after it; the next forget or up applies it): %w", svc.Name, err)
		}
		if err != nil {
			return fmt.Errorf("service %q: %w", svc.Name, err)
		}
		var keep, remove int
		for _, g := range groups {
			keep += len(g.Keep)
			remove += len(g.Remove)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\n", svc.Name, keep, remove)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if opts.dryRun {
		fmt.Fprintln(opts.d.streams.Out, "dry run: nothing was removed")
		return nil
	}
	if opts.prune {
		return prune(ctx, opts, plan, r.Runner, r.Identity.Machine)
	}
	return nil
}

// prune removes the data no snapshot needs and, with --metrics-file, records how it
// ended as the prune command.
func prune(ctx context.Context, opts *repoOptions, plan *composeext.Plan, r restic.Runner, machine string) error {
	rep, err := commandRun(ctx, plan, "prune", func(rep *report.Run) error {
		rep.Machine = machine
		return restic.Prune(ctx, r, opts.d.streams.Out)
	})
	if ctx.Err() == nil {
		opts.metrics.write(rep, warnTo(opts.d.streams.Err))
	}
	return err
}

func newCheckCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "Check the repository's integrity",
		UsageText: appName(d) + " check [OPTIONS]",
		Flags: withProjectFlags(
			&cli.StringFlag{Name: "read-data-subset", Usage: "Also read this part of the data (e.g. 10% or 1/5)"},
			metricsFileFlag(),
		),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			return runCheck(c.Context, &repoOptions{load: load, readData: c.String("read-data-subset"),
				metrics: newMetricsFile(c.String("metrics-file")), d: d})
		},
	}
}

func runCheck(ctx context.Context, opts *repoOptions) error {
	plan, err := loadPlan(ctx, opts.load, nil)
	if err != nil {
		return err
	}
	rep, err := commandRun(ctx, plan, "check", func(rep *report.Run) error {
		return checkRepository(ctx, opts, plan, rep)
	})
	if ctx.Err() == nil {
		opts.metrics.write(rep, warnTo(opts.d.streams.Err))
	}
	return err
}

// checkRepository connects and checks; rep gets the machine's name.
func checkRepository(ctx context.Context, opts *repoOptions, plan *composeext.Plan, rep *report.Run) error {
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return err
	}
	rep.Machine = s.identity.Machine
	warnLeftovers(ctx, s.api, plan.Project, warnTo(opts.d.streams.Err))
	return restic.Check(ctx, s.runner, opts.readData, opts.d.streams.Out)
}

// warnTo prints a run's warnings as "warning: …" lines.
func warnTo(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "warning: "+msg) }
}
