package helper

import (
	"bytes"
	"context"
	"fmt"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// KindHook is a job that execs a hook command in a stack's task container on its node
// (agent hook), with that node's socket.
const KindHook = "hook"

// Hook runs cmd in container (a task's, on the runner's node) as a job with the node's
// socket (agent.HookCommand), checked as a dump job's is, and returns the hook's exit
// code and the tail of its stderr. The command reaches the job as a secret (its spec
// file): an interpolated hook may hold a secret. Ending ctx removes the job, which
// ends the hook in its container.
func (j *NodeRunner) Hook(ctx context.Context, service, container string, cmd []string) (int, string, error) {
	c := j.c
	spec := dump.Spec{Container: container, Cmd: cmd}
	hostname := "docker-backup"
	if c.RunID != "" {
		hostname = helperHostname(c.RunID)
	}
	mounts, files := j.jobSocket(nil, []engine.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}})
	var stdout bytes.Buffer
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunJob(ctx, c.API, engine.JobSpec{
		Name: helperName(c.Project, service+"-"+KindHook), Image: c.Image, NodeID: j.node,
		Entrypoint: []string{agentimage.Binary, agent.Command, agent.HookCommand, "--spec", dump.SpecFile},
		Env:        []string{agent.UnheldEnv + "=1"},
		Mounts:     append([]mount.Mount(nil), mounts...),
		Labels:     c.Labels(service, KindHook), Hostname: hostname, Init: true,
		Files: files, Stdout: &stdout, Stderr: stderr,
	})
	if err != nil {
		return -1, "", err
	}
	if serr := j.socketFailure(code, stderr.String()); serr != nil {
		return -1, "", serr
	}
	if code != 0 {
		return -1, "", fmt.Errorf("the hook's job on node %s exited with code %d%s", j.node, code, stderr.Suffix())
	}
	res, err := agent.ParseHookResult(stdout.String())
	if err != nil {
		return -1, "", err
	}
	return res.ExitCode, res.Stderr, nil
}
