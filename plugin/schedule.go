package plugin

import (
	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

func newScheduleCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "schedule",
		Usage: "Run the project's backups on x-backup.schedule, in the foreground (the scheduler service)",
		UsageText: "[OPTIONS]\n\n" +
			"Runs up (with the retention) on x-backup.schedule, check on x-backup.check.schedule,\n" +
			"prune on x-backup.prune.schedule and verify on x-backup.verify.schedule, one at a time:\n" +
			"a tick during a run is skipped and logged.\n" +
			"SIGTERM ends a run in progress cleanly (stopped services run again; the run is interrupted,\n" +
			"not failed) and exits 0. As it starts, before the first tick, it finishes what a dead run\n" +
			"left (a scheduler killed mid-run: its stopped services run again) and logs what it did.\n" +
			"As a service of the project (see --print) it finds its project by its own container's\n" +
			"compose labels. --print prints that service as a compose file.\n" +
			"On a swarm stack (-p STACK against a manager), it runs up on the stack from there, and\n" +
			"--print prints it as a stack of its own for a manager (docker stack deploy -c FILE STACK-backup).",
		Flags: withRunFlags(
			&cli.BoolFlag{Name: "print", Usage: "Print a compose file holding the scheduler service for this project, and exit"},
			&cli.StringFlag{Name: "service-name", Value: "docker-backup", Usage: "The scheduler service's name in --print's file"},
			&cli.StringFlag{Name: "state-file", Usage: "Where the scheduler keeps its state for status (default in a container: " + schedule.StateFile + ")"},
			metricsFileFlag(),
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		opts := app.ScheduleOptions{
			Load: load, ServiceName: c.String("service-name"), StateFile: c.String("state-file"),
			MetricsFile: c.String("metrics-file"), Run: readRunSettings(c), Log: d.streams.Out,
			UpView:     func() app.Sink { return newReporter(Streams{Out: d.streams.Out, Err: d.streams.Err}, false) },
			VerifyView: func() app.Sink { return &verifyProgress{out: d.streams.Out} },
			CopyView:   func() app.Sink { return newCopyReporter(Streams{Out: d.streams.Out, Err: d.streams.Err}, false) },
		}
		if c.Bool("print") {
			return d.app().PrintScheduler(c.Context, opts, d.streams.Out, warnings(d.streams.Err))
		}
		return d.app().Schedule(c.Context, opts)
	})
}
