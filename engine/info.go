package engine

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// EngineInfo is what identifies the engine: its host's name and its own ID, which
// stays the same as long as the engine's data root does.
type EngineInfo struct {
	Name string
	ID   string
}

// Info asks the engine who it is.
func Info(ctx context.Context, api API) (EngineInfo, error) {
	res, err := api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return EngineInfo{}, fmt.Errorf("asking the docker engine who it is: %w", err)
	}
	return EngineInfo{Name: res.Info.Name, ID: res.Info.ID}, nil
}
