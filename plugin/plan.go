package plugin

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
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
	return &cli.Command{
		Name:      "plan",
		Usage:     "Show what up would back up, and which services hold data with no backup decision",
		UsageText: appName(d) + " plan [OPTIONS] [SERVICE...]",
		Flags: withProjectFlags(
			&cli.BoolFlag{Name: "json", Usage: "Print the plan as one JSON document"},
			&cli.BoolFlag{Name: "strict", Usage: "Fail (exit 1) when a service with volumes declares no x-backup"},
		),
		Action: func(c *cli.Context) error {
			return runPlan(c.Context, &planOptions{
				load:     loadOptions(c, d),
				services: c.Args().Slice(),
				json:     c.Bool("json"),
				strict:   c.Bool("strict"),
				out:      d.streams.Out,
				errOut:   d.streams.Err,
			})
		},
	}
}

func runPlan(ctx context.Context, opts *planOptions) error {
	if _, err := loadPlan(ctx, opts.load); err != nil {
		return err
	}
	return fmt.Errorf("plan: %w", errNotImplemented)
}
