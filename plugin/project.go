package plugin

import (
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
)

// projectFlags are docker compose's project options, with the same names and meaning,
// and our overrides of the x-backup settings. They are accepted before the command
// (`docker backup -f prod.yaml up`, as with docker compose) and after it.
func projectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "Compose configuration files"},
		&cli.StringFlag{Name: "project-name", Aliases: []string{"p"}, Usage: "Project name"},
		&cli.StringFlag{Name: "project-directory", Usage: "Specify an alternate working directory\n(default: the path of the, first specified, Compose file)"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "Specify an alternate environment file"},
		&cli.StringSliceFlag{Name: "profile", Usage: "Specify a profile to enable"},
		&cli.StringFlag{Name: "repo", Usage: "restic repository (overrides x-backup.repository; env DOCKER_BACKUP_REPOSITORY)"},
		&cli.StringFlag{Name: "password-file", Usage: "file holding the repository password (env DOCKER_BACKUP_PASSWORD_FILE)"},
		&cli.StringFlag{Name: "image", Usage: "restic image the helper image is built on (overrides x-backup.image; env DOCKER_BACKUP_IMAGE)"},
		&cli.StringFlag{Name: "agent-image", Usage: "prebuilt helper image of docker-backup, used as is (overrides x-backup.agent_image; env DOCKER_BACKUP_AGENT_IMAGE)"},
		&cli.StringFlag{Name: "docker-socket", Usage: "the engine's socket on the engine's host, for the helpers that run dumps (overrides x-backup.docker_socket; env DOCKER_BACKUP_DOCKER_SOCKET)"},
	}
}

// withRunFlags adds runFlags to the own flags of a command that begins a run.
func withRunFlags(flags ...cli.Flag) []cli.Flag {
	return append(flags, runFlags()...)
}

// projectAction is the action of a command on a project, given the project flags as
// composeext's load options.
type projectAction func(c *cli.Context, load composeext.LoadOptions) error

// projectCommand completes cmd, a command on the project: its usage line begins with
// the program's name and its own (cmd.UsageText holds its arguments and description),
// its flags begin with the project flags, and its action reads them (loadOptions),
// then runs action with them.
func projectCommand(d *deps, cmd *cli.Command, action projectAction) *cli.Command {
	cmd.UsageText = appName(d) + " " + cmd.Name + " " + cmd.UsageText
	cmd.Flags = append(projectFlags(), cmd.Flags...)
	cmd.Action = func(c *cli.Context) error {
		load, err := loadOptions(c, d)
		if err != nil {
			return err
		}
		return action(c, load)
	}
	return cmd
}

// flagStrings collects a repeatable flag from the command and the app level, app first.
func flagStrings(c *cli.Context, name string) []string {
	var out []string
	lineage := c.Lineage()
	for i := len(lineage) - 1; i >= 0; i-- {
		if lc := lineage[i]; lc != nil && slices.Contains(lc.LocalFlagNames(), name) {
			out = append(out, lc.StringSlice(name)...)
		}
	}
	return out
}

// flagString returns a flag given at the command level, else at the app level.
func flagString(c *cli.Context, name string) string {
	for _, lc := range c.Lineage() {
		if lc != nil && slices.Contains(lc.LocalFlagNames(), name) {
			return lc.String(name)
		}
	}
	return ""
}

// loadOptions reads the project flags into composeext's options, with where the engine
// runs: a local repository of a remote engine is a folder of that engine's host.
func loadOptions(c *cli.Context, d *deps) (composeext.LoadOptions, error) {
	loc, err := d.locateEngine()
	if err != nil {
		return composeext.LoadOptions{}, err
	}
	o := composeext.LoadOptions{
		Files:            flagStrings(c, "file"),
		ProjectName:      flagString(c, "project-name"),
		ProjectDirectory: flagString(c, "project-directory"),
		EnvFiles:         flagStrings(c, "env-file"),
		Profiles:         flagStrings(c, "profile"),
		WorkingDir:       d.workdir,
		Environ:          d.environ,
		Repository:       flagString(c, "repo"),
		PasswordFile:     flagString(c, "password-file"),
		Image:            flagString(c, "image"),
		AgentImage:       flagString(c, "agent-image"),
		DockerSocket:     flagString(c, "docker-socket"),
	}
	if loc.Remote {
		o.RemoteEngine = loc.Endpoint
	}
	return o, nil
}
