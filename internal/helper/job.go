package helper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// jobCachePath is restic's cache in a job: on its tmpfs, as a volume of the cache's
// would be left on the node by every job.
const jobCachePath = "/tmp/restic-cache"

// OnNode returns a restic.Runner that runs each restic invocation of the runner as a
// one-shot swarm service (engine.RunJob) on the node nodeID: where a stack's task has its
// local volumes. The engine must be a manager of the swarm, the image on that node,
// and the repository reachable from it (never a folder of one node). The job carries
// the runner's labels (its run's included) and hostname; its files (repository,
// password, backend credentials) are swarm secrets of the job, never in its spec.
func (c *Runner) OnNode(nodeID string) *NodeRunner {
	return &NodeRunner{c: c, node: nodeID}
}

// NodeRunner runs helpers as jobs on one swarm node: restic (Run) and hooks (Hook).
type NodeRunner struct {
	c    *Runner
	node string
}

// Run runs inv as a job on the runner's node and maps its exit code as Runner.Run does.
func (j *NodeRunner) Run(ctx context.Context, inv restic.Invocation) error {
	if inv.Stdin != nil {
		return fmt.Errorf("%s on node %s: a job reads no input", inv.Kind, j.node)
	}
	if inv.Kind == KindEngineCheck {
		// A socket job checks its node's socket itself, first (jobSocket).
		return fmt.Errorf("%s on node %s: not run as a job", inv.Kind, j.node)
	}
	spec, err := j.jobSpec(inv)
	if err != nil {
		return err
	}
	stderr := &engine.Tail{Max: 8 << 10}
	spec.Stderr = stderr
	if spec.Stdout != nil {
		// restic's progress while the job runs; the rest of its output once it ended.
		out := spec.Stdout
		spec.Live = &lineFilter{w: out, keep: isProgress}
		rest := &lineFilter{w: out, keep: func(l []byte) bool { return !isProgress(l) }}
		defer rest.flush()
		spec.Stdout = rest
	}
	code, err := engine.RunJob(ctx, j.c.API, spec)
	if err != nil {
		return err
	}
	if _, socket := socketHelpers[inv.Kind]; socket {
		if serr := j.socketFailure(code, stderr.String()); serr != nil {
			return serr
		}
		if f := dump.ParseFailure(code, stderr.String()); f != nil {
			return f
		}
	}
	return restic.ErrorForExit(code, stderr.String())
}

// jobSpec is the helper Runner.Run would create, as a job: the same entrypoint,
// arguments, environment, labels and hostname, its files as secrets, restic's cache on
// its tmpfs.
func (j *NodeRunner) jobSpec(inv restic.Invocation) (engine.JobSpec, error) {
	h := j.c.helperSpec(inv)
	if len(h.Binds) > 0 || j.c.Repo.Local {
		return engine.JobSpec{}, fmt.Errorf("%s on node %s: a folder repository of one node is not reachable from the others", inv.Kind, j.node)
	}
	var mounts []mount.Mount
	for _, m := range h.Mounts {
		if m.Target == cachePath {
			continue
		}
		mounts = append(mounts, m)
	}
	env := make([]string, 0, len(h.Env))
	for _, e := range h.Env {
		if strings.HasPrefix(e, "RESTIC_CACHE_DIR=") {
			e = "RESTIC_CACHE_DIR=" + jobCachePath
		}
		env = append(env, e)
	}
	network := h.NetworkMode
	if network == "none" {
		network = ""
	}
	if _, socket := socketHelpers[inv.Kind]; socket {
		mounts, h.Files = j.jobSocket(mounts, h.Files)
		// A task has no input for the plugin to hold: its dump ends when the job's
		// service is removed (agent.UnheldEnv).
		env = append(env, agent.UnheldEnv+"=1")
	}
	what := inv.Service
	if what == "" {
		what = inv.Kind
	}
	return engine.JobSpec{
		Name: jobName(j.c.Project, what), Image: h.Image, NodeID: j.node,
		Entrypoint: h.Entrypoint, Cmd: h.Cmd, Env: env, Mounts: mounts,
		Labels: h.Labels, Hostname: h.Hostname, Network: network, Init: h.Init,
		Files: h.Files, Stdout: h.Stdout,
	}, nil
}

// jobSocket gives a socket job its node's own engine socket, not the manager's: the
// same path (x-backup.docker_socket, /var/run/docker.sock by default) bound on the node
// the job runs on, so the dump execs in the task's container there and its bytes never
// leave that node. The identity it checks first (agent.EngineIDFile) is the node's
// (engine.NodeIdentity): the manager knows each node's ID, never its engine's ID or
// data root, and the node ID the socket's engine reports must be the task's node. A
// socket of another engine on that node (a second dockerd, a rootless one) is refused
// before the spec is acted on, as on one engine.
func (j *NodeRunner) jobSocket(mounts []mount.Mount, files []engine.File) ([]mount.Mount, []engine.File) {
	out := files[:0:0]
	for _, f := range files {
		if f.Path != agent.EngineIDFile {
			out = append(out, f)
		}
	}
	out = append(out, engine.File{Path: agent.EngineIDFile, Mode: 0o400, Data: engine.NodeIdentity(j.node).Marshal()})
	has := slices.ContainsFunc(mounts, func(m mount.Mount) bool { return m.Target == agent.EngineSocket })
	if !has {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: j.c.nodeSocket(), Target: agent.EngineSocket})
	}
	return mounts, out
}

// socketFailure is a socket job's failure that its socket caused: another engine (or
// none) answered on the node. One line naming the setting, the socket and the node.
func (j *NodeRunner) socketFailure(code int, stderr string) error {
	f := agent.ParseSocketFailure(code, stderr)
	if f == nil {
		return nil
	}
	se := &SocketError{Setting: j.c.DockerSocketSetting, Socket: j.c.nodeSocket(), Node: j.node}
	if j.c.DockerSocketNote != "" {
		// Not set in the project: each node's default, whatever this process reaches the
		// manager by.
		se.Note = "the default"
	}
	var wrong *agent.WrongEngine
	if errors.As(f, &wrong) {
		se.Want, se.Got = wrong.Want, wrong.Got
	} else {
		se.Err = f
	}
	return se
}
