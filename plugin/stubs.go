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
