package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// EngineInfo is what identifies the engine: its host's name and its own ID, which
// stays the same as long as the engine's data root does.
type EngineInfo struct {
	Name string
	ID   string
	// OS and Arch are what the engine's containers run on (linux, x86_64…).
	OS, Arch string
	// RootDir is the engine's data root: two engines of one host never share it.
	RootDir string
	// Desktop is an engine of Docker Desktop: it runs in a virtual machine, where a
	// path of the client's machine (its socket's included) is not the engine host's.
	Desktop bool
	// Swarm is the engine's part in a swarm: the zero value when it is in none.
	Swarm SwarmRole
}

// SwarmRole is an engine's part in a swarm.
type SwarmRole struct {
	// NodeID is the engine's node in the swarm, empty when it is in none.
	NodeID string
	// Manager is true for a manager node: only a manager lists services, tasks and nodes.
	Manager bool
	// ClusterID is the swarm's own ID, as a manager knows it: it names the swarm in a
	// stack's snapshots.
	ClusterID string
}

// Identity tells two engines apart. The ID alone does not on every version: up to
// Engine 20.10 it is the one of the host's key file (/etc/docker/key.json), which two
// rootful engines of one host share; the data root is each engine's own there.
//
// A swarm node's engine is named by its node ID alone (NodeIdentity): a manager sees
// the nodes' IDs, never their engines' IDs or data roots, and a node ID is the swarm's
// own name for one engine (two engines of one host never share it).
type Identity struct {
	ID      string `json:"id"`
	RootDir string `json:"root_dir"`
	// NodeID, when set, is the swarm node the engine must be; ID and RootDir are empty.
	NodeID string `json:"node_id,omitempty"`
}

// NodeIdentity is the identity of the engine of swarm node nodeID.
func NodeIdentity(nodeID string) Identity { return Identity{NodeID: nodeID} }

// Identity is the engine's identity.
func (i EngineInfo) Identity() Identity { return Identity{ID: i.ID, RootDir: i.RootDir} }

// IdentityAs is the engine's identity in the terms of want: its swarm node's when want
// names a node, else Identity. The engine is the one wanted when the two are equal.
func (i EngineInfo) IdentityAs(want Identity) Identity {
	if want.NodeID != "" {
		return NodeIdentity(i.Swarm.NodeID)
	}
	return i.Identity()
}

// Marshal is the identity as JSON, for a helper's file.
func (i Identity) Marshal() []byte {
	b, _ := json.Marshal(i) // two strings always marshal
	return b
}

// ParseIdentity reads Marshal's output.
func ParseIdentity(data []byte) (Identity, error) {
	var i Identity
	if err := json.Unmarshal(data, &i); err != nil {
		return Identity{}, fmt.Errorf("reading the engine's identity: %w", err)
	}
	return i, nil
}

// Info asks the engine who it is.
func Info(ctx context.Context, api API) (EngineInfo, error) {
	res, err := api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return EngineInfo{}, fmt.Errorf("asking the docker engine who it is: %w", err)
	}
	out := EngineInfo{Name: res.Info.Name, ID: res.Info.ID, OS: res.Info.OSType, Arch: res.Info.Architecture,
		RootDir: res.Info.DockerRootDir, Desktop: strings.HasPrefix(res.Info.OperatingSystem, "Docker Desktop")}
	if sw := res.Info.Swarm; sw.LocalNodeState == swarm.LocalNodeStateActive {
		out.Swarm = SwarmRole{NodeID: sw.NodeID, Manager: sw.ControlAvailable}
		if sw.Cluster != nil {
			out.Swarm.ClusterID = sw.Cluster.ID
		}
	}
	return out, nil
}

// VersionAPI is what Version asks of the client: the engine's version, and the API
// version the client negotiated.
type VersionAPI interface {
	ServerVersion(ctx context.Context, options client.ServerVersionOptions) (client.ServerVersionResult, error)
	ClientVersion() string
}

// EngineVersion is the engine's version as `docker backup version` shows it.
type EngineVersion struct {
	Version, APIVersion, MinAPIVersion, ClientAPI, OS, Arch string
}

// Version asks the engine for its version.
func Version(ctx context.Context, api VersionAPI) (EngineVersion, error) {
	sv, err := api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return EngineVersion{}, fmt.Errorf("asking the docker engine for its version: %w", err)
	}
	return EngineVersion{Version: sv.Version, APIVersion: sv.APIVersion, MinAPIVersion: sv.MinAPIVersion,
		ClientAPI: api.ClientVersion(), OS: sv.Os, Arch: sv.Arch}, nil
}
