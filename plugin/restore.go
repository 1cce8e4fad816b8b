package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
)

// restoreOptions holds the restore command's flags and dependencies.
type restoreOptions struct {
	restore app.RestoreOptions
	args    []string
	yes     bool
	json    bool
	// interactive reports whether a person can answer on stdin.
	interactive func() bool
	d           *deps
}

func newRestoreCommand(d *deps) *cli.Command {
	return projectCommand(d, &cli.Command{
		Name:  "restore",
		Usage: "Restore services from a snapshot",
		UsageText: "[OPTIONS] SERVICE[@SNAPSHOT]...\n\n" +
			"SNAPSHOT is latest (the default), a snapshot ID or ID prefix, or a date (2006-01-02,\n" +
			"2006-01-02 15:04, RFC 3339): the newest snapshot at or before it. With --from, an ID is\n" +
			"the copy's own or that of the snapshot it was copied from (the primary's).\n" +
			"Volumes: the service is stopped, the snapshot restored into a staging volume and verified,\n" +
			"then it replaces the live content; the previous content is kept in a rollback volume.\n" +
			"Dumps: the dump is streamed into the service's restore command in its running container.\n" +
			"On a swarm stack (against a manager), a volumes service is restored on the node its task\n" +
			"runs on (or --node), scaled to 0 for the swap alone.",
		Flags: withRunFlags(
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "Do not ask for confirmation (needed when stdin is not a terminal)"},
			&cli.StringFlag{Name: "to", Usage: "Restore into this new or empty volume (volumes) or into this service of the project (dump) instead"},
			&cli.BoolFlag{Name: "dry-run", Usage: "Print the steps, and do nothing"},
			&cli.BoolFlag{Name: "no-rollback", Usage: "Do not keep the previous content in a rollback volume (refused for a service that excludes by pattern)"},
			&cli.BoolFlag{Name: "json", Usage: "Print one JSON event per line"},
			&cli.StringFlag{Name: "node", Usage: "On a swarm stack: restore onto this node (hostname or ID) instead of the one the service's task runs on"},
			copyFromFlag("Restore from this copy repository (a `NAME` of x-backup.copies) instead of the primary"),
		),
	}, func(c *cli.Context, load composeext.LoadOptions) error {
		return runRestore(c.Context, &restoreOptions{
			restore: app.RestoreOptions{
				Node: c.String("node"), From: c.String("from"),
				Load: load, To: c.String("to"), DryRun: c.Bool("dry-run"),
				NoRollback: c.Bool("no-rollback"), Run: readRunSettings(c),
			},
			args: c.Args().Slice(), yes: c.Bool("yes"), json: c.Bool("json"),
			interactive: func() bool { return isTerminal(d.streams.In) && isTerminal(d.streams.Err) },
			d:           d,
		})
	})
}

func runRestore(ctx context.Context, opts *restoreOptions) error {
	if len(opts.args) == 0 {
		return usageErrorf("restore needs at least one SERVICE[@SNAPSHOT]: see '%s restore --help'", appName(opts.d))
	}
	targets, err := app.ParseTargets(opts.args, opts.restore.To)
	if err != nil {
		return err
	}
	opts.restore.Targets = targets
	if !opts.restore.DryRun && !opts.yes && !opts.interactive() {
		return usageErrorf("restore replaces data and stdin is not a terminal: pass --yes to confirm (or --dry-run to see the steps)")
	}
	if !opts.yes {
		opts.restore.Confirm = func(what []string) (bool, error) { return confirm(opts.d.streams.In, opts.d.streams.Err, what) }
	}
	steps, err := opts.d.app().Restore(ctx, opts.restore, newRestoreReporter(opts.d.streams, opts.json))
	if errors.Is(err, app.ErrDeclined) {
		// Declining is an answer, not a failure: exit 0, and say that nothing changed.
		fmt.Fprintln(opts.d.streams.Err, err)
		return nil
	}
	for _, s := range steps {
		fmt.Fprintln(opts.d.streams.Out, s)
	}
	return err
}

// confirm shows what will be replaced and reads y/N.
func confirm(in io.Reader, out io.Writer, what []string) (bool, error) {
	fmt.Fprintln(out, "This will:")
	for _, w := range what {
		fmt.Fprintln(out, "  "+w)
	}
	fmt.Fprint(out, "Continue? [y/N] ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(out)
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
