package plugin

import "github.com/urfave/cli/v2"

// copyFromFlag is --from NAME: read a copy repository of x-backup.copies instead of the
// primary (restore, verify, snapshots).
func copyFromFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "from", Usage: usage}
}
