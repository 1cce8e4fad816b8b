package run

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// AgentCall is one agent command (`docker-backup agent ARGS…`) in a helper of the run,
// with no network: a restore's preflight and swap, recovery's look at a killed swap.
type AgentCall struct {
	Service, Kind string
	Args          []string
	// Spec, if not nil, reaches the helper as agent.SpecFile (JSON): never argv.
	Spec   any
	Mounts []mount.Mount
	Stdout io.Writer
}

// RunAgent runs the call and returns the agent's exit code and the tail of its stderr
// as ": …" (or "").
func (r *Run) RunAgent(ctx context.Context, c AgentCall) (int, string, error) {
	var files []engine.File
	if c.Spec != nil {
		data, err := json.Marshal(c.Spec)
		if err != nil {
			return -1, "", fmt.Errorf("writing the %s spec: %w", c.Kind, err)
		}
		files = append(files, engine.File{Path: agent.SpecFile, Mode: 0o400, Data: data})
	}
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, r.API, engine.HelperSpec{
		Name:        r.HelperName(c.Service + "-" + c.Kind),
		Image:       r.Runner.Image,
		Entrypoint:  []string{agentimage.Binary, agent.Command},
		Cmd:         c.Args,
		Mounts:      c.Mounts,
		Labels:      r.Labels(c.Service, c.Kind),
		NetworkMode: "none",
		Files:       files,
		Stdout:      c.Stdout,
		Stderr:      stderr,
	})
	return code, stderr.Suffix(), err
}
