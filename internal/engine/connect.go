package engine

import (
	"fmt"

	"github.com/moby/moby/client"
)

// Connect returns a client of the engine's API at host, e.g. unix:///var/run/docker.sock
// inside a helper that has the engine's socket, with the API version negotiated.
func Connect(host string) (API, error) {
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("connecting to the engine at %s: %w", host, err)
	}
	return c, nil
}
