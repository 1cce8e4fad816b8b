package enginetest

import (
	"context"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The fake answers as the engine does, with errors cerrdefs recognises.
func TestEngineErrors(t *testing.T) {
	ctx := context.Background()
	e := New(t)
	e.AddContainer(Seed{ID: "c1", Name: "web"})
	e.AddContainer(Seed{ID: "c2", Name: "old", State: container.StateExited})
	for _, tc := range []struct {
		name string
		err  error
		is   func(error) bool
	}{
		{"create with a name in use", second(e.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{}})), cerrdefs.IsConflict},
		{"remove a running container without force", second(e.ContainerRemove(ctx, "c1", client.ContainerRemoveOptions{})), cerrdefs.IsConflict},
		{"kill a stopped container", second(e.ContainerKill(ctx, "c2", client.ContainerKillOptions{})), cerrdefs.IsConflict},
		{"exec in a stopped container", second(e.ExecCreate(ctx, "c2", client.ExecCreateOptions{Cmd: []string{"true"}})), cerrdefs.IsConflict},
		{"start a missing container", second(e.ContainerStart(ctx, "nope", client.ContainerStartOptions{})), cerrdefs.IsNotFound},
		{"inspect a missing container", second(e.ContainerInspect(ctx, "nope", client.ContainerInspectOptions{})), cerrdefs.IsNotFound},
		{"inspect a missing volume", second(e.VolumeInspect(ctx, "nope", client.VolumeInspectOptions{})), cerrdefs.IsNotFound},
		{"remove a missing volume", second(e.VolumeRemove(ctx, "nope", client.VolumeRemoveOptions{})), cerrdefs.IsNotFound},
		{"wait for a missing container", <-e.ContainerWait(ctx, "nope", client.ContainerWaitOptions{}).Error, cerrdefs.IsNotFound},
	} {
		if !tc.is(tc.err) {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
	if _, err := e.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.Add("status", "running")}); err == nil {
		t.Error("an unsupported filter was ignored")
	}
}

func TestEngineWaitAndExit(t *testing.T) {
	ctx := context.Background()
	e := New(t)
	e.AddContainer(Seed{ID: "c1", Name: "web"})
	next := e.ContainerWait(ctx, "c1", client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	e.Exit("c1", 3)
	if res := <-next.Result; res.StatusCode != 3 {
		t.Errorf("exit code %d, want 3", res.StatusCode)
	}
	if res := <-e.ContainerWait(ctx, "c1", client.ContainerWaitOptions{}).Result; res.StatusCode != 3 {
		t.Errorf("not-running wait of a stopped container: %d, want 3 at once", res.StatusCode)
	}
	cctx, cancel := context.WithCancel(ctx)
	w := e.ContainerWait(cctx, "c1", client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	cancel()
	if err := <-w.Error; err != context.Canceled {
		t.Errorf("cancelled wait: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
