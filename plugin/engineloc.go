package plugin

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/context/docker"
	dopts "github.com/docker/cli/opts"

	"github.com/docker-backup/docker-backup/internal/app"
)

// locateEndpoint tells a local endpoint from a remote one by its scheme. A socket
// (unix://, npipe://, fd://) is on this machine; tcp:// is remote even on a loopback
// address (an ssh tunnel, a VM's forwarded port), and so are ssh:// and anything else.
func locateEndpoint(host string) app.Location {
	loc := app.Location{Endpoint: maskEndpoint(host)}
	scheme, _, _ := strings.Cut(host, "://")
	switch strings.ToLower(scheme) {
	case "unix":
		if p := host[len("unix://"):]; filepath.IsAbs(p) {
			loc.Socket = filepath.Clean(p)
		}
	case "npipe", "fd":
	default:
		loc.Remote = true
	}
	return loc
}

// maskEndpoint hides a password in an endpoint's user information.
func maskEndpoint(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.User == nil {
		return host
	}
	if _, ok := u.User.Password(); !ok {
		return host
	}
	u.User = url.UserPassword(u.User.Username(), "***")
	return strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
}

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
		return locateEndpoint(host), err
	}
	return locateEndpoint(ep.Host), nil
}
