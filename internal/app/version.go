package app

import (
	"context"
	"runtime"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// VersionInfo is this program's version and the engine's, as `version --json` prints
// them.
type VersionInfo struct {
	Plugin struct {
		Version   string `json:"version"`
		GoVersion string `json:"go_version"`
		OS        string `json:"os"`
		Arch      string `json:"arch"`
	} `json:"plugin"`
	Engine struct {
		Version       string `json:"version"`
		APIVersion    string `json:"api_version"`
		MinAPIVersion string `json:"min_api_version"`
		ClientAPI     string `json:"client_api_version"`
		OS            string `json:"os"`
		Arch          string `json:"arch"`
	} `json:"engine"`
}

// Versions says which docker-backup this is and which engine it talks to.
func (a *App) Versions(ctx context.Context) (VersionInfo, error) {
	var info VersionInfo
	info.Plugin.Version = a.Version
	info.Plugin.GoVersion = runtime.Version()
	info.Plugin.OS, info.Plugin.Arch = runtime.GOOS, runtime.GOARCH
	api, err := a.Docker()
	if err != nil {
		return info, err
	}
	sv, err := engine.Version(ctx, api)
	if err != nil {
		return info, err
	}
	info.Engine.Version = sv.Version
	info.Engine.APIVersion = sv.APIVersion
	info.Engine.MinAPIVersion = sv.MinAPIVersion
	info.Engine.ClientAPI = sv.ClientAPI
	info.Engine.OS, info.Engine.Arch = sv.OS, sv.Arch
	return info, nil
}
