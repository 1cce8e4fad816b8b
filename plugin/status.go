package plugin

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

func newStatusCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "status",
		Usage: "Show each service's last run, last success, last snapshot and next run",
		UsageText: "[OPTIONS]\n\n" +
			"From the repository (the snapshots) and the project's scheduler service, if one runs\n" +
			"(the failed runs, the next ticks). Works from the host and in the scheduler's container.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "Print the status as JSON"},
			&cli.StringFlag{Name: "state-file", Usage: "Read the scheduler's state from this file instead of its container"},
		},
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		view, err := d.app().Status(c.Context, load, c.String("state-file"), warnings(d.streams.Err))
		if err := show(c, d.streams.Out, view, err, func() error { return writeStatus(d.streams.Out, *view) }); err != nil {
			return err
		}
		if problems := view.CopyProblems(); len(problems) > 0 {
			// Shown in the table (and the JSON): the exit code says it to a script.
			return &exitCodeError{code: ExitFailure}
		}
		return nil
	})
}

// writeStatus prints the status as a table.
func writeStatus(w io.Writer, v app.StatusView) error {
	switch s := v.Scheduler; {
	case s == nil:
		fmt.Fprintf(w, "project %s on %s: no scheduler service (docker backup schedule --print)\n", v.Project, v.Machine)
	case !s.Running:
		fmt.Fprintf(w, "project %s on %s: scheduler %s is not running\n", v.Project, v.Machine, s.Container)
	default:
		busy := "idle"
		if s.Busy != "" {
			busy = "running " + s.Busy
		}
		fmt.Fprintf(w, "project %s on %s: scheduler %s %s, on %q, heartbeat %s\n", v.Project, v.Machine, s.Container, busy, v.Schedule, s.Heartbeat.Local().Format(time.DateTime))
	}
	if s := v.Scheduler; s != nil && s.Interrupted != nil && !s.Jobs["up"].LastRun.After(s.Interrupted.Found) {
		// Until the next backup: then it is history, and its rows are that backup's.
		fmt.Fprintln(w, interruptedLine(s.Interrupted))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTRATEGY\tLAST RUN\tSTATUS\tLAST SUCCESS\tLAST SNAPSHOT\tNEXT RUN")
	for _, r := range v.Services {
		status := orDash(r.LastStatus)
		if r.LastError != "" {
			status += ": " + r.LastError
		}
		if r.StartedAgain != nil {
			status += " (left stopped, started again " + when(r.StartedAgain) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Service, r.Strategy, when(r.LastRun), status,
			when(r.LastSuccess), orDash(r.LastSnapshot), when(r.NextRun))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeCopyStatus(w, v.Copies)
}

// writeCopyStatus prints the copies' table: each copy's newest snapshot, its lag
// behind the primary, the scheduler's last copy to it, and its problem.
func writeCopyStatus(w io.Writer, rows []app.CopyStatus) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COPY\tNEWEST SNAPSHOT\tLAG\tMAX LAG\tLAST COPY\tSTATUS")
	for _, r := range rows {
		newest := "-"
		if r.Newest != nil {
			newest = r.NewestSnapshot + " " + when(r.Newest)
		}
		lag := r.Lag
		if r.Behind > 0 {
			lag += fmt.Sprintf(" (%d behind)", r.Behind)
		}
		status := orDash(r.LastStatus)
		if r.LastError != "" {
			status += ": " + r.LastError
		}
		if r.Problem != "" {
			status = "PROBLEM: " + r.Problem + "; last copy " + status
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Copy, newest, lag, orDash(r.MaxLag), when(r.LastRun), status)
	}
	return tw.Flush()
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// interruptedLine says in one line which dead run the scheduler found at its start and
// what its recovery did: "interrupted run: up of 2026-12-01 03:00:00 (the scheduler
// died during the run), found 2026-12-01 09:12:40: files started again at 09:12:41".
func interruptedLine(in *schedule.Interruption) string {
	what := in.Cause
	if in.Job != "" {
		what = fmt.Sprintf("%s of %s (%s)", in.Job, in.Started.Local().Format(time.DateTime), in.Cause)
	}
	return fmt.Sprintf("interrupted run: %s, found %s: %s", what, in.Found.Local().Format(time.DateTime), app.DescribeRecovery(*in))
}
