package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"slices"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// session is what a command needs to work on a project's repository: the engine, the
// restic runner and whose snapshots they are.
type session struct {
	api      engine.API
	runner   *helper.Runner
	identity snapshot.Identity
}

// connect opens the plan's repository for helpers and identifies this machine.
func (a *App) connect(ctx context.Context, plan *composeext.Plan) (*session, error) {
	api, err := a.Docker()
	if err != nil {
		return nil, err
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return nil, err
	}
	id, err := run.Identify(ctx, api, plan.Project, plan.Host)
	if err != nil {
		return nil, err
	}
	if isStack(ctx, api, info, plan.Project) {
		// The stack's one series, whichever node ran its tasks: snapshots, forget and
		// check read the same snapshots up writes.
		id = run.IdentifyStack(plan.Project, plan.Host, info.Swarm.ClusterID)
	}
	// The helper image first: an engine that cannot get one refuses the command before
	// anything is made, a generated repository key included.
	image, err := a.agentImage(ctx, api, plan, info)
	if err != nil {
		return nil, err
	}
	socket, note := a.dumpSocket(plan, info)
	repo, err := repository(ctx, plan, a.notes())
	if err != nil {
		return nil, err
	}
	return &session{api: api, identity: id, runner: &helper.Runner{
		API:     api,
		Image:   image,
		Project: plan.Project,
		Repo:    repo,
		// Only the dump helpers (helper.SocketKinds) get it, and check that it is the
		// socket of the engine this process talks to.
		DockerSocket: socket, DockerSocketSetting: plan.DockerSocketSetting, DockerSocketNote: note,
		NodeSocket: plan.DockerSocket,
		Engine:     info.Identity(),
		// Settings of the engine side that belong to the machine, not to the project.
		Network:     a.Getenv("DOCKER_BACKUP_NETWORK"),
		CacheVolume: a.Getenv("DOCKER_BACKUP_CACHE_VOLUME"),
	}}, nil
}

// dumpSocket is the engine's socket on its host for the dump helpers, and where it came
// from when no setting named it. With an engine on this machine reached through a unix
// socket (DOCKER_HOST=unix:///run/user/1000/docker.sock for a rootless engine beside a
// rootful one, a context), that very socket is the engine host's path too, so it is
// the default, not /var/run/docker.sock, which may be the other engine's. Not where the
// engine runs in a virtual machine (Docker Desktop, or any client but Linux: colima,
// OrbStack…), whose sockets on this machine are forwarded, and the VM's own
// /var/run/docker.sock is the engine's.
func (a *App) dumpSocket(plan *composeext.Plan, info engine.EngineInfo) (socket, note string) {
	if !plan.DockerSocketDefault {
		return plan.DockerSocket, ""
	}
	loc, err := a.locate()
	if err == nil && !loc.Remote && loc.Socket != "" && !info.Desktop && runtime.GOOS == "linux" {
		return loc.Socket, "the endpoint's own socket"
	}
	return plan.DockerSocket, "the default"
}

// needsSocket reports whether command gives the engine's socket to a helper of the
// plan: up, restore and verify when they have a dump service.
func needsSocket(plan *composeext.Plan, command string) bool {
	if command != "up" && command != "restore" && command != report.CommandVerify {
		return false
	}
	return slices.ContainsFunc(plan.Services, func(s composeext.ServicePlan) bool { return s.Strategy == composeext.StrategyDump })
}

// agentImage returns the helper image of the plan: the prebuilt one it names, or the
// one derived from its restic image, built on the engine when missing.
func (a *App) agentImage(ctx context.Context, api DockerAPI, plan *composeext.Plan, info engine.EngineInfo) (string, error) {
	exe := a.Executable
	if b := a.Getenv("DOCKER_BACKUP_AGENT_BINARY"); b != "" {
		// A Linux build of this docker-backup for the engine (e.g. from a Mac client).
		exe = b
	}
	return agentimage.Resolve(ctx, api, info.OS, info.Arch, agentimage.Options{
		ResticImage: plan.Image, AgentImage: plan.AgentImage, Version: a.Version,
		Executable: exe,
		Progress:   func(msg string) { fmt.Fprintln(a.notes(), msg) },
	})
}

// defaultWait is how long a run waits for another run of its project without --wait
// (the --wait flag's usage says "a minute").
const defaultWait = time.Minute

// beginOptions say what a command's run needs besides its flags.
type beginOptions struct {
	// initLocal creates a default local repository that does not exist yet (up).
	initLocal bool
	// listed is true when the command has just listed the repository's snapshots
	// (restore and verify select theirs before the run): see run.Options.Listed.
	listed bool
	// mounts are what the run's restic commands need besides the repository (see
	// run.Options.Mounts).
	mounts []restic.Mount
	// overlap lets the opening go on beside the first backups (see run.Options.Overlap).
	overlap bool
	// stack is true for a swarm stack: the manager's socket is not checked, as no helper
	// gets it; each dump job checks its own node's socket first (helper.Runner.OnNode).
	stack bool
}

// begin begins a run of command on the session's project (package run).
func (s *session) begin(ctx context.Context, plan *composeext.Plan, command string, rs RunSettings, bo beginOptions, warn func(string)) (*run.Run, error) {
	s.runner.RetryLock = rs.RetryLock
	wait := defaultWait
	if rs.Wait {
		wait = -1
	}
	o := run.Options{
		API: s.api, Identity: s.identity, Runner: s.runner,
		Command: command, Client: clientName(), AnchorImage: s.runner.Image,
		Wait: wait, InitLocal: bo.initLocal, Listed: bo.listed, RepoDisplay: plan.Repository.Where(), Warn: warn,
		Host: true, Mounts: bo.mounts, Swarm: bo.stack, Overlap: bo.overlap,
	}
	if !needsSocket(plan, command) || bo.stack {
		return run.Begin(ctx, o)
	}
	return s.beginChecked(ctx, o)
}

// beginChecked begins the run while a helper checks the dump helpers' socket
// (helper.Runner.CheckSocket), and returns only once the socket is known good: a
// socket of another engine stops the command before anything is stopped, any hook
// runs or the default repository is made. What the run's beginning does meanwhile
// stops nothing: the anchor, the recovery of dead runs (which only starts and
// finishes what they left), the opening. So the check's helper start overlaps them
// instead of coming first. The default repository is created only after the check:
// on its first use the run begins again, with InitLocal.
func (s *session) beginChecked(ctx context.Context, o run.Options) (*run.Run, error) {
	// A copy: run.Begin sets the runner's run and host while the check reads it.
	checker := *s.runner
	checkCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	checked := make(chan error, 1)
	go func() { checked <- checker.CheckSocket(checkCtx) }()
	initLocal := o.InitLocal
	// The opening is part of the beginning here (it overlaps the check instead of the
	// backups), so that a missing repository is known before the check has ended.
	o.InitLocal, o.Overlap = false, false
	r, err := run.Begin(ctx, o)
	if cerr := <-checked; cerr != nil {
		if r != nil {
			r.End(ctx)
		}
		return nil, cerr
	}
	var missing *run.ErrNoRepository
	if err != nil && initLocal && errors.As(err, &missing) && missing.Folder {
		o.InitLocal = true
		return run.Begin(ctx, o)
	}
	return r, err
}

// clientName says who runs a command, for another run that has to wait: user@host pid N.
func clientName() string {
	host, _ := os.Hostname()
	name := "?"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}
