package plugin

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func newVersionCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "Show the plugin's version and the Docker engine's",
		UsageText: appName(d) + " version [--json]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "Print the versions as JSON"}},
		Action: func(c *cli.Context) error {
			info, err := d.app().Versions(c.Context)
			return show(c, d.streams.Out, info, err, func() error {
				_, err := fmt.Fprintf(d.streams.Out, `docker-backup:
 Version:           %s
 Go version:        %s
 OS/Arch:           %s/%s

Server: Docker Engine
 Version:           %s
 API version:       %s (minimum version %s, used %s)
 OS/Arch:           %s/%s
`, info.Plugin.Version, info.Plugin.GoVersion, info.Plugin.OS, info.Plugin.Arch,
					info.Engine.Version, info.Engine.APIVersion, info.Engine.MinAPIVersion, info.Engine.ClientAPI,
					info.Engine.OS, info.Engine.Arch)
				return err
			})
		},
	}
}
