package plugin

import (
	"fmt"
	"io"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/context/docker"
	dopts "github.com/docker/cli/opts"

	"github.com/docker-backup/docker-backup/internal/app"
)

// locateEngine resolves the endpoint newDockerClient connects to, without connecting,
// as docker does: docker/cli's DockerCli names the current context (--context, -H,
// DOCKER_HOST, DOCKER_CONTEXT, config.json's currentContext) and its context store
// holds each context's endpoint, the default one made of -H, DOCKER_HOST and the TLS
// flags. (DockerCli.DockerEndpoint gives the same, but pings the engine and prints its
// errors rather than returning them.)
func (g *globalFlags) locateEngine(stderr io.Writer) (app.Location, error) {
	cli, err := command.NewDockerCli(command.WithErrorStream(stderr))
	if err == nil {
		err = cli.Initialize(g.opts)
	}
	if err != nil {
		return app.Location{}, fmt.Errorf("resolving the docker endpoint: %w", err)
	}
	meta, err := cli.ContextStore().GetMetadata(cli.CurrentContext())
	if err != nil {
		return app.Location{}, fmt.Errorf("resolving the docker endpoint: %w", err)
	}
	ep, err := docker.EndpointFromContext(meta)
	if err != nil {
		return app.Location{}, fmt.Errorf("resolving the docker endpoint: %w", err)
	}
	if ep.Host == "" {
		// The client then falls back to its default socket.
		host, err := dopts.ParseHost(false, "")
		return app.LocateEndpoint(host), err
	}
	return app.LocateEndpoint(ep.Host), nil
}
