package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/snapshot"
)

// Identify returns whose snapshots a project writes on this engine: the project, on the
// machine named by override (x-backup.host) or else derived from the engine: its host
// name and a hash of its ID, stable as long as the engine keeps its data root.
func Identify(ctx context.Context, api engine.API, project, override string) (snapshot.Identity, error) {
	if override != "" {
		return snapshot.Identity{Project: project, Machine: override}, nil
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return snapshot.Identity{}, err
	}
	return snapshot.Identity{Project: project, Machine: machineName(info)}, nil
}

// IdentifyStack returns whose snapshots a swarm stack writes: the stack as the
// project, on the machine named by override (x-backup.host) or else by the swarm:
// swarm-<6 hex digits of its cluster ID>. One series for the stack, whichever node a
// task runs on (a tag names the node, snapshot.NodeTag).
func IdentifyStack(project, override, clusterID string) snapshot.Identity {
	if override != "" {
		return snapshot.Identity{Project: project, Machine: override}
	}
	sum := sha256.Sum256([]byte(clusterID))
	return snapshot.Identity{Project: project, Machine: "swarm-" + hex.EncodeToString(sum[:3])}
}

var unsafeHostChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// machineName is <engine host name>-<6 hex digits of the engine ID>.
func machineName(info engine.EngineInfo) string {
	sum := sha256.Sum256([]byte(info.ID))
	name := strings.Trim(unsafeHostChars.ReplaceAllString(info.Name, "-"), "-")
	if name == "" {
		name = "engine"
	}
	return name + "-" + hex.EncodeToString(sum[:3])
}
