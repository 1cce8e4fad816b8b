package helper

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
	// VolumeLabels, on a swarm node (NodeAgent), label the volumes of Mounts that the
	// node's engine creates as it mounts them, by name.
	VolumeLabels map[string]map[string]string
	Stdout       io.Writer
}

// RunAgent runs the call and returns the agent's exit code and the tail of its stderr
// as ": …" (or "").
func (c *Runner) RunAgent(ctx context.Context, call AgentCall) (int, string, error) {
	var files []engine.File
	if call.Spec != nil {
		data, err := json.Marshal(call.Spec)
		if err != nil {
			return -1, "", fmt.Errorf("writing the %s spec: %w", call.Kind, err)
		}
		files = append(files, engine.File{Path: agent.SpecFile, Mode: 0o400, Data: data})
	}
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, c.API, engine.HelperSpec{
		Name:        c.HelperName(call.Service + "-" + call.Kind),
		Image:       c.Image,
		Entrypoint:  []string{agentimage.Binary, agent.Command},
		Cmd:         call.Args,
		Mounts:      call.Mounts,
		Labels:      c.Labels(call.Service, call.Kind),
		NetworkMode: "none",
		Files:       files,
		Stdout:      call.Stdout,
		Stderr:      stderr,
	})
	return code, stderr.Suffix(), err
}

// HelperName names a helper of the runner that is not restic's (a file copy):
// <project>-backup-<what>-<random>.
func (c *Runner) HelperName(what string) string { return helperName(c.Project, what) }
