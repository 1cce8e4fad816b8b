package plugin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/term"
	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/restore"
)

// restoreOptions holds the restore command's flags and dependencies.
type restoreOptions struct {
	load       composeext.LoadOptions
	args       []string
	yes        bool
	to         string
	dryRun     bool
	noRollback bool
	json       bool
	run        runSettings
	// interactive reports whether a person can answer on stdin.
	interactive func() bool
	// connect opens the repository and the engine.
	connect func(ctx context.Context, d *deps, plan *composeext.Plan) (*session, error)
	d       *deps
}

func newRestoreCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "Restore services from a snapshot",
		UsageText: appName(d) + " restore [OPTIONS] SERVICE[@SNAPSHOT]...\n\n" +
			"SNAPSHOT is latest (the default), a snapshot ID or ID prefix, or a date (2006-01-02,\n" +
			"2006-01-02 15:04, RFC 3339): the newest snapshot at or before it.\n" +
			"Volumes: the service is stopped, the snapshot restored into a staging volume and verified,\n" +
			"then it replaces the live content; the previous content is kept in a rollback volume.\n" +
			"Dumps: the dump is streamed into the service's restore command in its running container.",
		Flags: append(withProjectFlags(
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "Do not ask for confirmation (needed when stdin is not a terminal)"},
			&cli.StringFlag{Name: "to", Usage: "Restore into this new or empty volume (volumes) or into this service of the project (dump) instead"},
			&cli.BoolFlag{Name: "dry-run", Usage: "Print the steps, and do nothing"},
			&cli.BoolFlag{Name: "no-rollback", Usage: "Do not keep the previous content in a rollback volume (refused for a service that excludes by pattern)"},
			&cli.BoolFlag{Name: "json", Usage: "Print one JSON event per line"},
		), runFlags()...),
		Action: func(c *cli.Context) error {
			load, err := loadOptions(c, d)
			if err != nil {
				return err
			}
			opts := &restoreOptions{
				load: load,
				yes:  c.Bool("yes"), to: c.String("to"), dryRun: c.Bool("dry-run"),
				noRollback: c.Bool("no-rollback"), json: c.Bool("json"), run: readRunSettings(c),
				interactive: func() bool { return readerIsTerminal(d.streams.In) && isTerminal(d.streams.Err) },
				connect:     connect,
				d:           d,
			}
			opts.args = c.Args().Slice()
			return runRestore(c.Context, opts)
		},
	}
}

func runRestore(ctx context.Context, opts *restoreOptions) (err error) {
	if len(opts.args) == 0 {
		return usageErrorf("restore needs at least one SERVICE[@SNAPSHOT]: see '%s restore --help'", appName(opts.d))
	}
	if opts.to != "" && len(opts.args) > 1 {
		return usageErrorf("--to restores one service, not %d", len(opts.args))
	}
	var targets []restore.Target
	var names []string
	for _, a := range opts.args {
		t, err := restore.ParseTarget(a)
		if err != nil {
			return usageErrorf("%v", err)
		}
		targets = append(targets, t)
		names = append(names, t.Service)
	}
	if !opts.dryRun && !opts.yes && !opts.interactive() {
		return usageErrorf("restore replaces data and stdin is not a terminal: pass --yes to confirm (or --dry-run to see the steps)")
	}
	plan, err := loadPlan(ctx, opts.load, names)
	if err != nil {
		return err
	}
	defer func() { err = maskError(err, plan.Mask) }()
	s, err := opts.connect(ctx, opts.d, plan)
	if err != nil {
		return err
	}
	addContainerSecrets(ctx, s.api, plan)
	reporter := maskedRestoreReporter{inner: newRestoreReporter(opts.d.streams.Out, opts.json), mask: plan.Mask}
	env := restore.Env{API: s.api, Runner: s.runner, Identity: s.identity, Plan: plan, Reporter: reporter}
	ropts := restore.Options{To: opts.to, NoRollback: opts.noRollback}
	jobs, err := restore.Prepare(ctx, env, targets, ropts)
	if err != nil {
		return err
	}
	if opts.dryRun {
		for _, j := range jobs {
			for _, s := range j.Steps(ropts) {
				fmt.Fprintln(opts.d.streams.Out, s)
			}
		}
		return nil
	}
	if !opts.yes {
		ok, err := confirm(opts.d.streams.In, opts.d.streams.Err, jobs)
		if err != nil {
			return err
		}
		if !ok {
			// Declining is an answer, not a failure: exit 0, and say that nothing changed.
			fmt.Fprintln(opts.d.streams.Err, "restore cancelled: nothing was changed")
			return nil
		}
	}
	r, err := s.begin(ctx, plan, "restore", opts.run, beginOptions{listed: true}, warnTo(opts.d.streams.Err))
	if err != nil {
		return err
	}
	defer r.End(ctx)
	env.Run = r
	results := restore.Run(ctx, env, jobs, ropts)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := restore.Failed(results); err != nil {
		return &exitCodeError{code: ExitFailure, msg: err.Error()}
	}
	return nil
}

// confirm shows what will be replaced and reads y/N.
func confirm(in io.Reader, out io.Writer, jobs []restore.Job) (bool, error) {
	fmt.Fprintln(out, "This will:")
	for _, j := range jobs {
		fmt.Fprintln(out, "  "+j.Describe())
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

func readerIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
