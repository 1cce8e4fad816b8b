package plugin

import (
	"fmt"
	"io"
	"strings"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/config"
	cliflags "github.com/docker/cli/cli/flags"
	"github.com/spf13/pflag"
)

// pluginName is the name the docker CLI runs us under: `docker backup`.
const pluginName = "backup"

// globalFlags are the docker CLI's own global flags. The CLI passes them to a plugin
// before the plugin's name (`docker --context prod backup up` runs
// `docker-backup --context prod backup up`), so they are parsed with docker/cli's own
// definitions and resolved exactly as `docker` resolves them.
type globalFlags struct {
	opts  *cliflags.ClientOptions
	flags *pflag.FlagSet
}

// parseGlobalFlags reads the docker global flags at the front of args and returns the
// rest, with the plugin name dropped when the docker CLI put it there.
func parseGlobalFlags(args []string) (*globalFlags, []string, error) {
	g := &globalFlags{opts: cliflags.NewClientOptions(), flags: pflag.NewFlagSet("docker", pflag.ContinueOnError)}
	g.flags.SetOutput(io.Discard)
	g.flags.SetInterspersed(false)
	g.opts.InstallFlags(g.flags)
	n := g.leadingFlags(args)
	if err := g.flags.Parse(args[:n]); err != nil {
		return nil, nil, usageErrorf("%s", err)
	}
	rest := args[n:]
	if len(rest) > 0 && rest[0] == pluginName {
		rest = rest[1:]
	}
	g.opts.SetDefaultOptions(g.flags)
	return g, rest, nil
}

// newDockerClient connects to the engine the way `docker` would with the same flags:
// --context, then -H, then DOCKER_HOST, DOCKER_CONTEXT, config.json's currentContext.
func (g *globalFlags) newDockerClient(stderr io.Writer) (dockerAPI, error) {
	if g.flags.Changed("config") {
		config.SetDir(g.opts.ConfigDir)
	}
	cfg := config.LoadDefaultConfigFile(stderr)
	c, err := command.NewAPIClientFromFlags(g.opts, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the docker engine: %w", err)
	}
	return c, nil
}

// leadingFlags counts the arguments at the front of args that are docker global flags
// (with their values). Anything else, such as compose's -f or -p, ends them.
func (g *globalFlags) leadingFlags(args []string) int {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return i
		}
		name, hasValue := strings.TrimLeft(a, "-"), false
		if k, _, ok := strings.Cut(name, "="); ok {
			name, hasValue = k, true
		}
		var f *pflag.Flag
		if strings.HasPrefix(a, "--") {
			f = g.flags.Lookup(name)
		} else if len(name) == 1 {
			f = g.flags.ShorthandLookup(name)
		}
		if f == nil {
			return i
		}
		i++
		if !hasValue && f.Value.Type() != "bool" {
			i++
		}
	}
	return min(i, len(args))
}
