package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// EngineInfo is what identifies the engine: its host's name and its own ID, which
// stays the same as long as the engine's data root does.
type EngineInfo struct {
	Name string
	ID   string
	// OS and Arch are what the engine's containers run on (linux, x86_64…).
	OS, Arch string
	// Desktop is an engine of Docker Desktop: it runs in a virtual machine, where a
	// path of the client's machine (its socket's included) is not the engine host's.
	Desktop bool
}

// Info asks the engine who it is.
func Info(ctx context.Context, api API) (EngineInfo, error) {
	res, err := api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return EngineInfo{}, fmt.Errorf("asking the docker engine who it is: %w", err)
	}
	return EngineInfo{Name: res.Info.Name, ID: res.Info.ID, OS: res.Info.OSType, Arch: res.Info.Architecture,
		Desktop: strings.HasPrefix(res.Info.OperatingSystem, "Docker Desktop")}, nil
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
