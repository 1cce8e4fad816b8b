// Package plugin is the docker-backup command line: the Docker CLI plugin protocol, the
// command tree, the views of the application's events (package app) and the mapping of
// errors onto exit codes. Each command maps its flags to an app options value, calls
// one use case and renders what it tells.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/docker/cli/cli-plugins/socket"
	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/internal/app"
)

// Streams are the program's standard streams.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// deps is what every command needs from the outside world. Tests build their own.
type deps struct {
	streams Streams
	environ []string
	workdir string
	version string
	// executable is this program's binary, which the helper image is built with;
	// empty: os.Executable.
	executable string
	// pluginMode is true when the docker CLI runs us as `docker backup`.
	pluginMode bool
	// dockerClient connects to the engine on first use. Unit tests give the shared
	// fake engine (engine/enginetest).
	dockerClient func() (dockerAPI, error)
	// engineLocation says where the engine that dockerClient connects to runs, without
	// connecting; nil: a local engine (unit tests that need a remote one set it).
	engineLocation func() (app.Location, error)
	// mountinfo returns /proc/self/mountinfo, in which the scheduler finds its own
	// container; nil: the real file (unit tests give their own).
	mountinfo func() string
}

// locateEngine says where the engine runs.
func (d *deps) locateEngine() (app.Location, error) {
	if d.engineLocation == nil {
		return app.Location{}, nil
	}
	return d.engineLocation()
}

// dockerAPI is what the commands ask of the engine: *client.Client satisfies it.
type dockerAPI = app.DockerAPI

// app is the application the commands call, on these deps.
func (d *deps) app() *app.App {
	return &app.App{
		Docker: d.dockerClient, Locate: d.engineLocation, Environ: d.environ,
		Version: d.version, Executable: d.executable, Mountinfo: d.mountinfo, Notes: d.streams.Err,
	}
}

// Main runs the program with argv (argv[0] is the program) and returns its exit code.
func Main(argv []string, streams Streams, version string) int {
	if len(argv) > 1 && argv[1] == metadataCommand {
		if err := writeMetadata(streams.Out, version); err != nil {
			fmt.Fprintln(streams.Err, err)
			return ExitFailure
		}
		return ExitOK
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first Ctrl-C (or SIGTERM) cancels: the command cleans up and exits 130. A
	// second one exits at once; what is left, the next run of the project recovers.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		<-signals
		cancel()
		<-signals
		fmt.Fprintln(streams.Err, "interrupted again: exiting now (the next run of the project cleans up)")
		os.Exit(ExitInterrupted)
	}()
	// The docker CLI closes this socket to ask a plugin to stop (e.g. on Ctrl-C).
	go socket.ConnectAndWait(cancel)

	workdir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(streams.Err, "docker backup: reading the working directory: %v\n", err)
		return ExitFailure
	}
	err = runApp(ctx, argv[1:], &deps{
		streams:    streams,
		environ:    os.Environ(),
		workdir:    workdir,
		version:    version,
		pluginMode: os.Getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND") != "",
	})
	if err != nil {
		var coded *exitCodeError
		switch {
		case exitCode(ctx, err) == ExitInterrupted:
			fmt.Fprintln(streams.Err, "interrupted")
		case !errors.As(err, &coded) || coded.msg != "":
			fmt.Fprintln(streams.Err, err)
		}
	}
	return exitCode(ctx, err)
}

// runApp parses the docker global flags, then runs the command tree on the rest.
func runApp(ctx context.Context, args []string, d *deps) error {
	global, rest, err := parseGlobalFlags(args)
	if err != nil {
		return err
	}
	if d.dockerClient == nil {
		d.dockerClient = memoizeClient(func() (dockerAPI, error) { return global.newDockerClient(d.streams.Err) })
	}
	if d.engineLocation == nil {
		d.engineLocation = func() (app.Location, error) { return global.locateEngine(d.streams.Err) }
	}
	app := newApp(d)
	return app.RunContext(ctx, hoistFlags(app, append([]string{appName(d)}, rest...)))
}

// memoizeClient connects once and hands the same client to every caller.
func memoizeClient(connect func() (dockerAPI, error)) func() (dockerAPI, error) {
	var (
		once sync.Once
		c    dockerAPI
		err  error
	)
	return func() (dockerAPI, error) {
		once.Do(func() { c, err = connect() })
		return c, err
	}
}

func appName(d *deps) string {
	if d.pluginMode {
		return "docker backup"
	}
	return "docker-backup"
}

// newApp builds the command tree.
func newApp(d *deps) *cli.App {
	app := &cli.App{
		Name:                      appName(d),
		HelpName:                  appName(d),
		Usage:                     "Back up and restore compose projects with restic",
		UsageText:                 appName(d) + " [OPTIONS] COMMAND [ARGS...]",
		Version:                   d.version,
		HideVersion:               true,
		Reader:                    d.streams.In,
		Writer:                    d.streams.Out,
		ErrWriter:                 d.streams.Err,
		Flags:                     projectFlags(),
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError:              onUsageError,
		Description: "Each service's x-backup block in the compose file says how its data is saved.\n" +
			"Docker's global options (--context, --host, --config, --tls…) go before \"backup\".",
		Commands: []*cli.Command{
			newUpCommand(d),
			newCopyCommand(d),
			newRestoreCommand(d),
			newVerifyCommand(d),
			newSnapshotsCommand(d),
			newPlanCommand(d),
			newInitCommand(d),
			newForgetCommand(d),
			newCheckCommand(d),
			newScheduleCommand(d),
			newStatusCommand(d),
			newVersionCommand(d),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unknown command %q: see '%s --help'", c.Args().First(), appName(d))
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = onUsageError
		}
	}
	return app
}

// onUsageError turns urfave's flag errors into our usage errors (exit code 2).
func onUsageError(c *cli.Context, err error, _ bool) error {
	name := c.App.HelpName
	if c.Command != nil && c.Command.HelpName != "" {
		name = c.Command.HelpName
	}
	return usageErrorf("%s: see '%s --help'", err, name)
}
