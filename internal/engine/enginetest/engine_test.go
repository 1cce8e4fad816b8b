package enginetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
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

// Inspect shows a container's mounts, its health and its image's ID; logs are what its
// program wrote.
func TestEngineInspectAndLogs(t *testing.T) {
	ctx := context.Background()
	e := New(t)
	e.AddContainer(Seed{ID: "c1", Name: "db", Image: "postgres:16", ImageID: "sha256:abc",
		Mounts:     []mount.Mount{{Type: mount.TypeVolume, Source: "data", Target: "/data"}, {Type: mount.TypeTmpfs, Target: "/tmp"}},
		HostConfig: &container.HostConfig{Binds: []string{"/etc/app:/etc/app:ro", "cache:/cache"}}})
	e.SetHealth("c1", container.Healthy, "ok")
	res, err := e.ContainerInspect(ctx, "c1", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Container
	if c.Image != "sha256:abc" || c.Config.Image != "postgres:16" {
		t.Errorf("image %q, config's %q", c.Image, c.Config.Image)
	}
	if c.State.Health == nil || c.State.Health.Status != container.Healthy || c.State.Health.Log[0].Output != "ok" {
		t.Errorf("health %+v", c.State.Health)
	}
	want := []container.MountPoint{
		{Type: mount.TypeVolume, Name: "data", Source: "/var/lib/docker/volumes/data/_data", Destination: "/data", Driver: "local", RW: true},
		{Type: mount.TypeTmpfs, Destination: "/tmp", RW: true},
		{Type: mount.TypeBind, Source: "/etc/app", Destination: "/etc/app"},
		{Type: mount.TypeVolume, Name: "cache", Source: "/var/lib/docker/volumes/cache/_data", Destination: "/cache", Driver: "local", RW: true},
	}
	if !slices.Equal(c.Mounts, want) {
		t.Errorf("mounts %+v, want %+v", c.Mounts, want)
	}

	e.Program = func(p *Process) int {
		fmt.Fprintln(p.Stdout, "out")
		fmt.Fprintln(p.Stderr, "err")
		return 1
	}
	created, err := e.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "app", Config: &container.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	exited := e.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := e.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	<-exited.Result
	for _, tc := range []struct {
		opts           client.ContainerLogsOptions
		stdout, stderr string
	}{
		{client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}, "out\n", "err\n"},
		{client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "1"}, "", "err\n"},
		{client.ContainerLogsOptions{ShowStdout: true}, "out\n", ""},
	} {
		logs, err := e.ContainerLogs(ctx, created.ID, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
			t.Fatal(err)
		}
		if stdout.String() != tc.stdout || stderr.String() != tc.stderr {
			t.Errorf("logs %+v: %q and %q, want %q and %q", tc.opts, stdout.String(), stderr.String(), tc.stdout, tc.stderr)
		}
	}
}
