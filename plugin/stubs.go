package plugin

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// notBuilt is the action of a command whose capability is not built yet: it says so
// and exits with ExitUsage, never pretending to succeed.
func notBuilt(name string) cli.ActionFunc {
	return func(*cli.Context) error {
		return fmt.Errorf("docker backup %s: %w in this version", name, errNotImplemented)
	}
}

func newRestoreCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "Restore services from a snapshot",
		UsageText: appName(d) + " restore [OPTIONS] SERVICE[@SNAPSHOT]...",
		Flags:     withProjectFlags(),
		Action:    notBuilt("restore"),
	}
}

func newSnapshotsCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "snapshots",
		Usage:     "List the snapshots of the project's services, newest first",
		UsageText: appName(d) + " snapshots [OPTIONS] [SERVICE...]",
		Flags:     withProjectFlags(),
		Action:    notBuilt("snapshots"),
	}
}

func newInitCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "Create the project's restic repository",
		UsageText: appName(d) + " init [OPTIONS]",
		Flags:     withProjectFlags(),
		Action:    notBuilt("init"),
	}
}

func newForgetCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "forget",
		Usage:     "Apply the retention policy to the project's snapshots",
		UsageText: appName(d) + " forget [OPTIONS] [SERVICE...]",
		Flags:     withProjectFlags(),
		Action:    notBuilt("forget"),
	}
}

func newCheckCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "Check the repository's integrity",
		UsageText: appName(d) + " check [OPTIONS]",
		Flags:     withProjectFlags(),
		Action:    notBuilt("check"),
	}
}
