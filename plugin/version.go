package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// versionOptions holds the version command's flags and dependencies.
type versionOptions struct {
	json    bool
	version string
	out     io.Writer
	docker  func() (dockerAPI, error)
}

func newVersionCommand(d *deps) *cli.Command {
	opts := &versionOptions{version: d.version, out: d.streams.Out, docker: d.dockerClient}
	return &cli.Command{
		Name:      "version",
		Usage:     "Show the plugin's version and the Docker engine's",
		UsageText: appName(d) + " version [--json]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "Print the versions as JSON", Destination: &opts.json},
		},
		Action: func(c *cli.Context) error {
			opts.docker = d.dockerClient
			return runVersion(c.Context, opts)
		},
	}
}

// versionInfo is what `version --json` prints.
type versionInfo struct {
	Plugin struct {
		Version   string `json:"version"`
		GoVersion string `json:"go_version"`
		OS        string `json:"os"`
		Arch      string `json:"arch"`
	} `json:"plugin"`
	Engine struct {
		Version       string `json:"version"`
		APIVersion    string `json:"api_version"`
		MinAPIVersion string `json:"min_api_version"`
		ClientAPI     string `json:"client_api_version"`
		OS            string `json:"os"`
		Arch          string `json:"arch"`
	} `json:"engine"`
}

func runVersion(ctx context.Context, opts *versionOptions) error {
	var info versionInfo
	info.Plugin.Version = opts.version
	info.Plugin.GoVersion = runtime.Version()
	info.Plugin.OS, info.Plugin.Arch = runtime.GOOS, runtime.GOARCH

	docker, err := opts.docker()
	if err != nil {
		return err
	}
	sv, err := engine.Version(ctx, docker)
	if err != nil {
		return err
	}
	info.Engine.Version = sv.Version
	info.Engine.APIVersion = sv.APIVersion
	info.Engine.MinAPIVersion = sv.MinAPIVersion
	info.Engine.ClientAPI = sv.ClientAPI
	info.Engine.OS, info.Engine.Arch = sv.OS, sv.Arch

	if opts.json {
		enc := json.NewEncoder(opts.out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err = fmt.Fprintf(opts.out, `docker-backup:
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
}
