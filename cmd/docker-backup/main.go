// Command docker-backup is the Docker CLI plugin behind `docker backup`; it also runs
// on its own as `docker-backup`.
package main

import (
	"os"

	"github.com/docker-backup/docker-backup/plugin"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(plugin.Main(os.Args, plugin.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, version))
}
