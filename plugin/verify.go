package plugin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/verify"
)

// verifyOptions holds the verify command's flags and dependencies.
type verifyOptions struct {
	load     composeext.LoadOptions
	services []string
	drill    verify.Options
	json     bool
	noNotify bool
	run      runSettings
	metrics  *metricsFile
	d        *deps
}

func newVerifyCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "Prove that the services' latest backups restore, in throwaway copies of the services",
		UsageText: appName(d) + " verify [OPTIONS] [SERVICE...]\n\n" +
			"A restore drill. Dumps: a throwaway copy of the service's container (same image and\n" +
			"configuration, fresh volumes, no network, throwaway passwords) loads the dump, then\n" +
			"x-backup.verify (or the preset's check) runs in it. Volumes: the snapshot is restored into\n" +
			"throwaway volumes and compared with the snapshot, then x-backup.verify runs on them.\n" +
			"The live services are never stopped or written. Exit code 1 when any drill failed.",
		Flags: append(withProjectFlags(
			&cli.StringFlag{Name: "snapshot", Usage: "Drill this snapshot instead of the latest: an `ID` or ID prefix (of the one SERVICE named), or a date (2006-01-02, 2006-01-02 15:04, RFC 3339: each service's newest at or before it)"},
			&cli.BoolFlag{Name: "json", Usage: "Print the results as one JSON document"},
			&cli.BoolFlag{Name: "keep", Usage: "Leave the throwaway containers and volumes for inspection, and print how to remove them"},
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "How many services are drilled at once"},
			&cli.DurationFlag{Name: "timeout", Value: verify.DefaultTimeout, Usage: "Fail a service's drill that takes longer"},
			&cli.BoolFlag{Name: "no-notify", Usage: "Send no x-backup.notify alerts"},
			metricsFileFlag(),
		), runFlags()...),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			if c.Int("parallel") < 1 || c.Duration("timeout") <= 0 {
				return usageErrorf("--parallel must be at least 1 and --timeout positive")
			}
			return runVerify(c.Context, &verifyOptions{
				load: load, services: c.Args().Slice(),
				drill: verify.Options{Snapshot: c.String("snapshot"), Keep: c.Bool("keep"), Parallel: c.Int("parallel"), Timeout: c.Duration("timeout")},
				json:  c.Bool("json"), noNotify: c.Bool("no-notify"), run: readRunSettings(c),
				metrics: newMetricsFile(c.String("metrics-file")), d: d,
			})
		},
	}
}

func runVerify(ctx context.Context, opts *verifyOptions) error {
	plan, err := loadPlan(ctx, opts.load, opts.services)
	if err != nil {
		return err
	}
	out := opts.d.streams.Out
	progress := opts.d.streams.Err
	results, rep, err := verifyPlan(ctx, opts, plan, &verifyProgress{out: progress, mask: plan.Mask})
	if !errors.Is(err, verify.ErrInput) {
		newAlertNotifier(plan, opts.noNotify, warnTo(progress)).done(ctx, rep)
		opts.metrics.write(rep, warnTo(progress))
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, verify.ErrInput):
		return usageErrorf("%s", plan.Mask(err.Error()))
	case err != nil:
		return maskError(err, plan.Mask)
	}
	if opts.json {
		if err := writeVerifyJSON(out, plan, results); err != nil {
			return err
		}
	} else {
		writeVerifyTable(out, plan, results)
	}
	if verify.Failed(results) {
		var failed []string
		for _, r := range results {
			if r.Status == verify.StatusFailed {
				failed = append(failed, r.Service)
			}
		}
		return &exitCodeError{code: ExitFailure, msg: "verify failed for " + strings.Join(failed, ", ")}
	}
	return nil
}

// verifyPlan runs the drill within a run of the project and says how it went.
func verifyPlan(ctx context.Context, opts *verifyOptions, plan *composeext.Plan, progress verify.Reporter) ([]verify.Result, report.Run, error) {
	rep := report.Run{Command: report.CommandVerify, Project: plan.Project, Started: time.Now()}
	results, err := verifyServices(ctx, opts, plan, progress, &rep)
	rep.Duration = time.Since(rep.Started)
	rep.Services = verify.Report(results, plan.Mask)
	if err != nil {
		rep.Error = plan.Mask(report.OneLine(err.Error()))
	}
	rep.Status = report.Overall(err, rep.Services)
	return results, rep, err
}

func verifyServices(ctx context.Context, opts *verifyOptions, plan *composeext.Plan, progress verify.Reporter, rep *report.Run) ([]verify.Result, error) {
	s, err := connect(ctx, opts.d, plan)
	if err != nil {
		return nil, err
	}
	rep.Machine = s.identity.Machine
	addContainerSecrets(ctx, s.api, plan)
	env := verify.Env{API: s.api, Runner: s.runner, Identity: s.identity, Plan: plan, Reporter: progress}
	jobs, err := verify.Prepare(ctx, env, opts.services, opts.drill)
	if err != nil {
		return nil, err
	}
	r, err := s.begin(ctx, plan, report.CommandVerify, opts.run, beginOptions{listed: true}, warnTo(opts.d.streams.Err))
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	env.Run = r
	return verify.Run(ctx, env, jobs, opts.drill), nil
}
