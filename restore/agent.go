package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/agent"
	"github.com/docker-backup/docker-backup/agentimage"
	"github.com/docker-backup/docker-backup/engine"
)

// agentCall is one agent command in a helper of the run, with no network.
type agentCall struct {
	service, kind string
	// args follow `docker-backup agent`; spec, if not nil, reaches the helper as
	// agent.SpecFile.
	args   []string
	spec   any
	mounts []mount.Mount
	stdout io.Writer
}

// runAgent runs the call and returns the agent's exit code and the tail of its stderr
// as ": …" (or "").
func runAgent(ctx context.Context, env Env, c agentCall) (int, string, error) {
	var files []engine.File
	if c.spec != nil {
		data, err := json.Marshal(c.spec)
		if err != nil {
			return -1, "", fmt.Errorf("writing the %s spec: %w", c.kind, err)
		}
		files = append(files, engine.File{Path: agent.SpecFile, Mode: 0o400, Data: data})
	}
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, env.API, engine.HelperSpec{
		Name:        env.Run.HelperName(c.service + "-" + c.kind),
		Image:       env.Run.Runner.Image,
		Entrypoint:  []string{agentimage.Binary, agent.Command},
		Cmd:         c.args,
		Mounts:      c.mounts,
		Labels:      env.Run.Labels(c.service, c.kind),
		NetworkMode: "none",
		Files:       files,
		Stdout:      c.stdout,
		Stderr:      stderr,
	})
	return code, stderr.Suffix(), err
}
