// Command docker-backup is the Docker CLI plugin behind `docker backup`; it also runs
// on its own as `docker-backup`, and as the agent inside its helper containers
// (`docker-backup agent …`).
package main

import (
	"os"
	// The scheduler honours TZ in images that have no zoneinfo (the restic image's).
	_ "time/tzdata"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/plugin"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == agent.Command {
		os.Exit(agent.Main(os.Args[2:], agent.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	}
	os.Exit(plugin.Main(os.Args, plugin.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, version))
}
