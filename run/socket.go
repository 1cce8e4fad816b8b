package run

import (
	"slices"

	"github.com/docker-backup/docker-backup/agent"
	"github.com/docker-backup/docker-backup/agentimage"
	"github.com/docker-backup/docker-backup/dump"
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
)

// socketHelpers are the helper kinds that get the engine's socket, and the agent
// command each runs restic under. The socket is root on the engine's host in effect:
// only these helpers, which run our own image, ever get it.
var socketHelpers = map[string]string{
	KindDump:        agent.DumpCommand,
	KindDumpRestore: agent.DumpRestoreCommand,
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

// socketEntrypoint is the entrypoint of a helper of a socket kind: the agent command
// that runs restic (the helper's command: restic's arguments) with the dump spec.
func socketEntrypoint(kind string) ([]string, bool) {
	cmd, ok := socketHelpers[kind]
	if !ok {
		return nil, false
	}
	return []string{agentimage.Binary, agent.Command, cmd, "--spec", dump.SpecFile}, true
}
