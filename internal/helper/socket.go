package helper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// Helper kinds that work on the engine's host with the engine's API socket: they exec
// in a service's container themselves, so a dump never crosses the client.
const (
	// KindDump stores a dump: the agent execs the dump command in the service's
	// container and feeds its output into restic backup --stdin (agent dump).
	KindDump = "dump"
	// KindDumpRestore restores a dump: the agent feeds restic dump's output into the
	// restore command it execs in the service's container (agent dump-restore).
	KindDumpRestore = "dump-restore"
	// KindEngineCheck checks that the socket is the engine's (agent engine-check), once
	// per command that will use it, before anything is stopped (CheckSocket).
	KindEngineCheck = "engine-check"
)

// socketHelpers are the helper kinds that get the engine's socket, and the agent
// command each runs. The socket is root on the engine's host in effect: only these
// helpers, which run our own image, ever get it.
var socketHelpers = map[string]string{
	KindDump:        agent.DumpCommand,
	KindDumpRestore: agent.DumpRestoreCommand,
	KindEngineCheck: agent.EngineCheckCommand,
}

// SocketKinds are the helper kinds that get the engine's API socket, sorted.
func SocketKinds() []string {
	var kinds []string
	for k := range socketHelpers {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// socketEntrypoint is the entrypoint of a dump helper: the agent command that runs
// restic (the helper's command: restic's arguments) with the dump spec.
func socketEntrypoint(kind string) ([]string, bool) {
	cmd, ok := socketHelpers[kind]
	if !ok || kind == KindEngineCheck {
		return nil, false
	}
	return []string{agentimage.Binary, agent.Command, cmd, "--spec", dump.SpecFile}, true
}

// socket is the engine's socket on the engine's host.
func (c *Runner) socket() string {
	if c.DockerSocket == "" {
		return composeext.DefaultDockerSocket
	}
	return c.DockerSocket
}

// nodeSocket is the engine's socket on each node of a swarm, for the jobs that get
// their node's socket: the plan's setting, never the path this process reaches the
// manager by (a unix socket of this machine is not a node's).
func (c *Runner) nodeSocket() string {
	if c.NodeSocket == "" {
		return composeext.DefaultDockerSocket
	}
	return c.NodeSocket
}

// socketFiles are what a socket helper gets besides its spec: the identity of the
// engine this process talks to, which the agent compares with the socket's
// (agent.EngineIDFile).
func (c *Runner) socketFiles() []engine.File {
	if c.Engine == (engine.Identity{}) {
		return nil
	}
	return []engine.File{{Path: agent.EngineIDFile, Mode: 0o400, Data: c.Engine.Marshal()}}
}

// CheckSocket has a helper with the socket (kind KindEngineCheck: no network, no
// repository, no secret) ask it who it is: the commands that will give it to a dump
// helper call it before they stop anything, so that the socket of another engine on the
// same host is one line naming x-backup.docker_socket (a *SocketError) before any
// service is down, not a dump's "No such container" after. It checks nothing when the
// engine's identity is unknown.
func (c *Runner) CheckSocket(ctx context.Context) error {
	if c.Engine == (engine.Identity{}) {
		return nil
	}
	hostname := "docker-backup"
	if c.RunID != "" {
		hostname = helperHostname(c.RunID)
	}
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, c.API, engine.HelperSpec{
		Name:        helperName(c.Project, KindEngineCheck),
		Image:       c.Image,
		Entrypoint:  []string{agentimage.Binary, agent.Command, agent.EngineCheckCommand},
		Mounts:      []mount.Mount{{Type: mount.TypeBind, Source: c.socket(), Target: agent.EngineSocket}},
		Labels:      c.Labels("", KindEngineCheck),
		Hostname:    hostname,
		NetworkMode: "none",
		Files:       c.socketFiles(),
		Stderr:      stderr,
	})
	if serr := c.socketFailure(code, stderr.String(), err); serr != nil {
		return serr
	}
	switch {
	case code == agent.ExitUsage && strings.Contains(stderr.String(), fmt.Sprintf("unknown command %q", agent.EngineCheckCommand)):
		// A prebuilt helper image of an older version (--agent-image) cannot check;
		// its dump helpers do not either, as before.
		return nil
	case err != nil:
		return fmt.Errorf("checking the engine's socket %s: %w", c.socket(), err)
	case code != 0:
		return fmt.Errorf("checking the engine's socket %s: the helper exited with code %d%s", c.socket(), code, stderr.Suffix())
	}
	return nil
}

// socketFailure is a socket helper's failure that the socket itself caused, as a
// *SocketError: the engine could not mount it (not on its host), or the agent found
// another engine, or none, behind it. Nil for anything else.
func (c *Runner) socketFailure(code int, stderr string, err error) error {
	se := &SocketError{Setting: c.DockerSocketSetting, Socket: c.socket(), Note: c.DockerSocketNote}
	switch {
	case err != nil && engine.IsMissingBindSource(err, c.socket()):
		return se
	case errors.Is(err, engine.ErrNotStarted) && strings.Contains(err.Error(), c.socket()):
		se.Err = err
		return se
	case err != nil:
		return nil
	}
	var wrong *agent.WrongEngine
	switch f := agent.ParseSocketFailure(code, stderr); {
	case f == nil:
		return nil
	case errors.As(f, &wrong):
		se.Want, se.Got = wrong.Want, wrong.Got
	default:
		se.Err = f
	}
	return se
}

// SocketError is a socket for the dump helpers that is not the engine's: the socket of
// another engine on the same host (Got), none on the engine's host, or one that does
// not answer (Err). It is a configuration error (composeext.ErrInvalid): the one line
// names the setting to change.
type SocketError struct {
	// Setting is where the socket was named, as messages name it ("compose.yaml:
	// x-backup.docker_socket", "--docker-socket"…; x-backup.docker_socket when empty).
	Setting string
	// Socket is the path on the engine's host; Note says where it came from when no
	// setting gave it ("the default"…).
	Socket, Note string
	// Want is the engine this process talks to, Got the socket's (when it answered).
	Want, Got engine.Identity
	Err       error
	// Node, for a swarm job's socket, is the node whose engine it had to be (Want is
	// that node's identity).
	Node string
}

func (e *SocketError) Error() string {
	setting := e.Setting
	if setting == "" {
		setting = "x-backup.docker_socket"
	}
	socket := e.Socket
	if e.Note != "" {
		socket += " (" + e.Note + ")"
	}
	const fix = "set it to the socket of this engine on its host"
	if e.Node != "" {
		return e.nodeError(setting, socket)
	}
	switch {
	case e.Got != (engine.Identity{}):
		return fmt.Sprintf("%s: %s is the socket of another engine (%s) than the one docker-backup talks to (%s): %s",
			setting, socket, describeEngine(e.Got, e.Want), describeEngine(e.Want, e.Got), fix)
	case e.Err == nil:
		return fmt.Sprintf("%s: %s is not on the engine's host: %s", setting, socket, fix)
	}
	return fmt.Sprintf("%s: %s is not a socket of this engine (%v): %s", setting, socket, e.Err, fix)
}

// nodeError is Error for the socket of a swarm job on node e.Node.
func (e *SocketError) nodeError(setting, socket string) string {
	const fix = "set it to the path of each node's own engine socket"
	switch {
	case e.Got != (engine.Identity{}):
		got := "node " + e.Got.NodeID
		if e.Got.NodeID == "" {
			got = "an engine in no swarm"
		}
		return fmt.Sprintf("%s: %s on node %s is the socket of another engine (%s): %s", setting, socket, e.Node, got, fix)
	case e.Err == nil:
		return fmt.Sprintf("%s: %s on node %s is not a socket of that node's engine: %s", setting, socket, e.Node, fix)
	}
	return fmt.Sprintf("%s: %s on node %s is not a socket of that node's engine (%v): %s", setting, socket, e.Node, e.Err, fix)
}

// Is makes it a configuration error.
func (e *SocketError) Is(target error) bool { return target == composeext.ErrInvalid }

// Unwrap is why the socket could not be used, if the engine or the agent said.
func (e *SocketError) Unwrap() error { return e.Err }

// describeEngine names an engine beside another: by its ID, and by its data root too
// when they share the ID (two rootful engines of one host up to Engine 20.10).
func describeEngine(e, beside engine.Identity) string {
	if e.ID != beside.ID {
		return "ID " + e.ID
	}
	return fmt.Sprintf("ID %s, data root %s", e.ID, e.RootDir)
}
