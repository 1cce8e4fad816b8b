package helper

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// KindNodeVolumes is the helper kind that removes a restore's volumes on a swarm node
// (agent node-volumes), with that node's engine socket.
const KindNodeVolumes = "node-volumes"

// NodeAgent runs the agent's commands as one-shot swarm jobs (engine.RunJob) on one
// node of a stack: a restore's preflight, swap and the removal of its volumes there,
// where the service's local volumes are. The engine must be a manager of the swarm.
type NodeAgent struct {
	c    *Runner
	node string
}

// AgentOnNode returns the runner's agent on the node nodeID.
func (c *Runner) AgentOnNode(nodeID string) *NodeAgent { return &NodeAgent{c: c, node: nodeID} }

// Node is the node's ID.
func (n *NodeAgent) Node() string { return n.node }

// RunAgent runs the call as a job on the node and returns the agent's exit code and
// the tail of its stderr as ": …". A volume the call mounts that the node does not
// have is created by the node's engine, with the labels VolumeLabels gives it.
func (n *NodeAgent) RunAgent(ctx context.Context, call AgentCall) (int, string, error) {
	return n.run(ctx, call, false)
}

func (n *NodeAgent) run(ctx context.Context, call AgentCall, socket bool) (int, string, error) {
	var files []engine.File
	if call.Spec != nil {
		data, err := json.Marshal(call.Spec)
		if err != nil {
			return -1, "", fmt.Errorf("writing the %s spec: %w", call.Kind, err)
		}
		files = append(files, engine.File{Path: agent.SpecFile, Mode: 0o400, Data: data})
	}
	mounts := make([]mount.Mount, 0, len(call.Mounts)+1)
	for _, m := range call.Mounts {
		if l, ok := call.VolumeLabels[m.Source]; ok && m.Type == mount.TypeVolume {
			m.VolumeOptions = &mount.VolumeOptions{Labels: l}
		}
		mounts = append(mounts, m)
	}
	if socket {
		// The node's own socket, at the path the plan names (the default
		// /var/run/docker.sock): never the endpoint's, which is this machine's path of
		// the manager's socket. The agent checks that it reaches the node's engine.
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: n.c.nodeSocket(), Target: agent.EngineSocket})
	}
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunJob(ctx, n.c.API, engine.JobSpec{
		Name:       jobName(n.c.Project, call.Service+"-"+strings.TrimPrefix(call.Kind, "restore-")),
		Image:      n.c.Image,
		NodeID:     n.node,
		Entrypoint: []string{agentimage.Binary, agent.Command},
		Cmd:        call.Args,
		Mounts:     mounts,
		Labels:     n.c.Labels(call.Service, call.Kind),
		Files:      files,
		Stdout:     call.Stdout,
		Stderr:     stderr,
	})
	return code, stderr.Suffix(), err
}

// RunSwap runs `agent swap` as Runner.RunSwap does, as a job on the node. Each volume
// is mounted on its own (the agent copies): the node's folder of volumes is not known
// here. The swap's rollback and records volumes are created by the node's engine as
// the job mounts them, with the labels VolumeLabels gives them.
func (n *NodeAgent) RunSwap(ctx context.Context, s Swap, resume bool, labels map[string]map[string]string) (SwapOutcome, error) {
	mounts, spec, err := swapLayout(ctx, nil, s)
	if err != nil {
		return SwapOutcome{}, err
	}
	return runSwap(ctx, s, resume, mounts, spec, func(ctx context.Context, call AgentCall) (int, string, error) {
		call.VolumeLabels = labels
		return n.RunAgent(ctx, call)
	})
}

// RemoveVolumes removes volumes of the node (agent node-volumes, with the node's engine
// socket): those spec names, and only those that carry the project's label.
func (n *NodeAgent) RemoveVolumes(ctx context.Context, service string, spec agent.NodeVolumesSpec) error {
	if spec.Require == nil {
		spec.Require = map[string]string{}
	}
	spec.Require[LabelProject] = n.c.Project
	spec.Node = n.node
	code, stderr, err := n.run(ctx, AgentCall{Service: service, Kind: KindNodeVolumes, Args: []string{agent.NodeVolumesCommand}, Spec: spec}, true)
	switch {
	case err != nil:
		return fmt.Errorf("removing volumes on node %s: %w", n.node, err)
	case code != 0:
		return fmt.Errorf("removing volumes on node %s: exit code %d%s", n.node, code, stderr)
	}
	return nil
}
