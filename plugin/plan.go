package plugin

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

// planOptions holds the plan command's flags and dependencies.
type planOptions struct {
	load     composeext.LoadOptions
	services []string
	json     bool
	strict   bool
	out      io.Writer
	errOut   io.Writer
}

func newPlanCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:      "plan",
		Usage:     "Show what up would back up, and which services hold data with no backup decision",
		UsageText: "[OPTIONS] [SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "Print the plan as one JSON document"},
			&cli.BoolFlag{Name: "strict", Usage: "Fail (exit 1) when a service with volumes declares no x-backup"},
		},
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		return runPlan(c.Context, &planOptions{
			load:     load,
			services: c.Args().Slice(),
			json:     c.Bool("json"),
			strict:   c.Bool("strict"),
			out:      d.streams.Out,
			errOut:   d.streams.Err,
		})
	})
}

// runPlan loads the project, narrows it to the named services and prints the plan (as
// text, or one JSON document with --json). Services holding data with no x-backup are a
// warning on stderr, or with --strict an error that exits 1 after the plan is printed.
func runPlan(ctx context.Context, opts *planOptions) error {
	plan, err := app.LoadPlan(ctx, opts.load, opts.services)
	if err != nil {
		return err
	}
	shown := plan.Masked()
	if opts.json {
		err = writePlanJSON(opts.out, shown)
	} else {
		err = writePlanText(opts.out, shown)
	}
	if err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	if len(plan.Unprotected) == 0 {
		return nil
	}
	msg := app.UnprotectedMessage(plan.Unprotected)
	if opts.strict {
		return &exitCodeError{code: ExitFailure, msg: "docker backup plan --strict: " + msg}
	}
	fmt.Fprintln(opts.errOut, "warning: "+msg)
	return nil
}
