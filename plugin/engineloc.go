package plugin

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
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
// in docker's order: --context, -H, DOCKER_HOST, DOCKER_CONTEXT, config.json's
// currentContext, the default socket. getenv reads the process's environment.
func (g *globalFlags) locateEngine(getenv func(string) string) (app.Location, error) {
	host, err := g.endpointHost(getenv)
	if err != nil {
		return app.Location{}, fmt.Errorf("resolving the docker endpoint: %w", err)
	}
	return locateEndpoint(host), nil
}

// endpointHost is the endpoint's address as docker/cli's NewAPIClientFromFlags
// resolves it (its own resolver is not exported).
func (g *globalFlags) endpointHost(getenv func(string) string) (string, error) {
	o := g.opts
	if o.Context != "" && len(o.Hosts) > 0 {
		return "", errors.New("conflicting options: cannot specify both --host and --context")
	}
	dir := g.configDir(getenv)
	name := o.Context
	if name == "" && len(o.Hosts) == 0 && getenv("DOCKER_HOST") == "" {
		name = getenv(command.EnvOverrideContext)
		if cfg, err := config.Load(dir); name == "" && err == nil {
			name = cfg.CurrentContext
		}
	}
	if name == "" || name == command.DefaultContextName {
		hosts := o.Hosts
		if len(hosts) == 0 {
			hosts = []string{getenv("DOCKER_HOST")}
		}
		if len(hosts) > 1 {
			return "", errors.New("specify only one -H")
		}
		return dopts.ParseHost(o.TLSOptions != nil, hosts[0])
	}
	meta, err := store.New(filepath.Join(dir, "contexts"), command.DefaultContextStoreConfig()).GetMetadata(name)
	if err != nil {
		return "", err
	}
	ep, err := docker.EndpointFromContext(meta)
	if err != nil {
		return "", err
	}
	if ep.Host == "" {
		// The client then falls back to its default socket.
		return dopts.ParseHost(false, "")
	}
	return ep.Host, nil
}

// configDir is docker's configuration folder: --config, DOCKER_CONFIG, ~/.docker.
func (g *globalFlags) configDir(getenv func(string) string) string {
	switch {
	case g.flags.Changed("config"):
		return g.opts.ConfigDir
	case getenv(config.EnvOverrideConfigDir) != "":
		return getenv(config.EnvOverrideConfigDir)
	}
	return config.Dir()
}
