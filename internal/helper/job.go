package helper

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/mount"

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
func (c *Runner) OnNode(nodeID string) restic.Runner {
	return &jobRunner{c: c, node: nodeID}
}

type jobRunner struct {
	c    *Runner
	node string
}

// Run runs inv as a job on the runner's node and maps its exit code as Runner.Run does.
func (j *jobRunner) Run(ctx context.Context, inv restic.Invocation) error {
	if inv.Stdin != nil {
		return fmt.Errorf("%s on node %s: a job reads no input", inv.Kind, j.node)
	}
	if _, socket := socketHelpers[inv.Kind]; socket {
		return fmt.Errorf("%s on node %s: jobs get no engine socket", inv.Kind, j.node)
	}
	spec, err := j.jobSpec(inv)
	if err != nil {
		return err
	}
	stderr := &engine.Tail{Max: 8 << 10}
	spec.Stderr = stderr
	code, err := engine.RunJob(ctx, j.c.API, spec)
	if err != nil {
		return err
	}
	return restic.ErrorForExit(code, stderr.String())
}

// jobSpec is the helper Runner.Run would create, as a job: the same entrypoint,
// arguments, environment, labels and hostname, its files as secrets, restic's cache on
// its tmpfs.
func (j *jobRunner) jobSpec(inv restic.Invocation) (engine.JobSpec, error) {
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
