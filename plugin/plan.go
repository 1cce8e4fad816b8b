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

// planOptions holds the plan command's flags and dependencies.
type planOptions struct {
	load     composeext.LoadOptions
	services []string
	json     bool
	strict   bool
	out      io.Writer
	errOut   io.Writer
	// app asks the engine whether the project is a swarm stack.
	app *app.App
}

func newPlanCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:      "plan",
		Usage:     "Show what up would back up, and which services hold data with no backup decision",
		UsageText: "[OPTIONS] [SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "Print the plan as one JSON document"},
			&cli.BoolFlag{Name: "strict", Usage: "Fail (exit 1) when a service with volumes declares no x-backup, or up would refuse a service of a swarm stack"},
		},
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		return runPlan(c.Context, &planOptions{
			load:     load,
			services: c.Args().Slice(),
			json:     c.Bool("json"),
			strict:   c.Bool("strict"),
			out:      d.streams.Out,
			errOut:   d.streams.Err,
			app:      d.app(),
		})
	})
}

// runPlan loads the project, narrows it to the named services and prints the plan (as
// text, or one JSON document with --json), with where a swarm stack's services run. Its
// problems (data with no x-backup, services up refuses on the stack) are warnings on
// stderr, or with --strict an error that exits 1 after the plan is printed.
func runPlan(ctx context.Context, opts *planOptions) error {
	plan, err := app.LoadPlan(ctx, opts.load, opts.services)
	if err != nil {
		return err
	}
	stack, err := opts.app.StackPlan(ctx, plan, warnTo(opts.errOut))
	if err != nil {
		return err
	}
	shown := plan.Masked()
	if opts.json {
		err = writePlanJSON(opts.out, shown, stack)
	} else {
		err = writePlanText(opts.out, shown, stack)
	}
	if err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	problems := app.PlanProblems(plan, stack)
	if opts.strict && len(problems) > 0 {
		return &exitCodeError{code: ExitFailure, msg: "docker backup plan --strict: " + strings.Join(problems, "; ")}
	}
	for _, p := range problems {
		fmt.Fprintln(opts.errOut, "warning: "+p)
	}
	return nil
}
