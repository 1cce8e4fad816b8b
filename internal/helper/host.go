package helper

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// host is the run's own container, its anchor, when it is also where the run's restic
// commands run: started once with the repository, the cache, the secrets and every
// mount the run's backups need, it runs each restic command that needs nothing more
// as an exec, which costs a fraction of a helper's start. The engine ends those execs
// with the container, when the run's process ends (see engine.HeldSpec): a dead run
// leaves no restic behind.
type host struct {
	id     string
	mounts []mount.Mount
}

// UseHost makes the running container id, started from HostSpec with mounts, the host
// of the restic commands it has the mounts for, until DropHost.
func (c *Runner) UseHost(id string, mounts []mount.Mount) {
	c.host = &host{id: id, mounts: mounts}
}

// DropHost runs every later restic command in a helper of its own: the host is gone.
func (c *Runner) DropHost() { c.host = nil }

// hostExecGrace is how long an interrupted restic of the host has to exit.
const hostExecGrace = 10 * time.Second

// runs reports whether the host runs an invocation: plain restic (no streamed input,
// no files, nothing before restic, not a socket kind) with every mount one of the host's.
func (h *host) runs(inv restic.Invocation) bool {
	if _, socket := socketHelpers[inv.Kind]; socket || inv.Stdin != nil || len(inv.Files) > 0 || inv.Before != "" {
		return false
	}
	for _, m := range inv.Mounts {
		if !slices.ContainsFunc(h.mounts, func(hm mount.Mount) bool {
			return string(hm.Type) == m.Type && hm.Source == m.Source && hm.Target == m.Target && hm.ReadOnly == m.ReadOnly
		}) {
			return false
		}
	}
	return true
}

// HostSpec is the anchor's spec made a host for the run's restic commands: the helpers'
// own settings (repository, cache, secrets, hostname, init, network) and the mounts given.
func (c *Runner) HostSpec(anchor engine.HeldSpec, mounts []restic.Mount) engine.HeldSpec {
	base := c.helperSpec(restic.Invocation{Mounts: mounts, Kind: KindAnchor})
	anchor.Env, anchor.Mounts, anchor.Binds, anchor.Files = base.Env, base.Mounts, base.Binds, base.Files
	anchor.Hostname, anchor.NetworkMode, anchor.Init = base.Hostname, base.NetworkMode, true
	// NetworkMode "" is the engine's default network; an anchor without a host has none.
	if anchor.NetworkMode == "" {
		anchor.NetworkMode = "default"
	}
	return anchor
}

// HoldEntrypoint is the anchor's: the agent reads its input until it ends, that is
// until the run's process has gone (agent hold).
var HoldEntrypoint = []string{agentimage.Binary, agent.Command, "hold"}

// HeldResticEntrypoint runs restic in the run's host for as long as its input is held
// (agent.HeldResticCommand): an exec's process outlives the connection that started it,
// so it is the end of that input that interrupts restic.
var HeldResticEntrypoint = []string{agentimage.Binary, agent.Command, agent.HeldResticCommand}

// execIn runs restic in the run's host container. Its input is held until the exec
// returns or ctx ends: then the agent interrupts restic (which removes its lock and
// commits nothing), and an interrupted exec is waited for, so that nothing reads a
// service's data once the run goes on to start it again.
func (c *Runner) execIn(ctx context.Context, h *host, inv restic.Invocation) error {
	stderr := &engine.Tail{Max: 8 << 10}
	held := newHeldInput(ctx)
	defer held.release()
	code, err := engine.Exec(ctx, c.API, h.id, engine.ExecSpec{
		Cmd:    append(slices.Clone(HeldResticEntrypoint), restic.WithRetryLock(inv.Args, c.RetryLock)...),
		Stdin:  held,
		Stdout: inv.Stdout, Stderr: stderr,
		WaitOnCancel: hostExecGrace,
	})
	if err != nil {
		return err
	}
	return restic.ErrorForExit(code, stderr.String())
}

// heldInput is an input that gives nothing and ends when ctx ends or it is released.
type heldInput struct {
	ctx  context.Context
	done chan struct{}
	once sync.Once
}

func newHeldInput(ctx context.Context) *heldInput {
	return &heldInput{ctx: ctx, done: make(chan struct{})}
}

func (h *heldInput) Read([]byte) (int, error) {
	select {
	case <-h.ctx.Done():
	case <-h.done:
	}
	return 0, io.EOF
}

func (h *heldInput) release() { h.once.Do(func() { close(h.done) }) }
