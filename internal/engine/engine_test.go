package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

func TestServiceContainers(t *testing.T) {
	api := enginetest.New(t)
	second := enginetest.ServiceContainer("c2", "shop", "db", false)
	second.Name, second.Labels[engine.LabelContainer] = "shop-db-2", "2"
	api.AddContainer(second)
	api.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	oneoff := enginetest.ServiceContainer("c3", "shop", "db", true)
	oneoff.Name, oneoff.Labels[engine.LabelOneoff] = "shop-db-run-1", "True"
	api.AddContainer(oneoff)
	api.AddContainer(enginetest.ServiceContainer("c4", "shop", "web", true))
	api.AddContainer(enginetest.ServiceContainer("c5", "other", "db", true))

	got, err := engine.ServiceContainers(context.Background(), api, "shop", "db")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Container{{ID: "c1", Name: "shop-db-1", Running: true, Number: "1"}, {ID: "c2", Name: "shop-db-2", Number: "2"}}
	if !slices.Equal(got, want) {
		t.Errorf("containers %+v, want %+v", got, want)
	}
	c, err := engine.RunningContainer(context.Background(), api, "shop", "db")
	if err != nil || c.ID != "c1" {
		t.Errorf("running container %+v, %v", c, err)
	}
	if _, err := engine.RunningContainer(context.Background(), api, "shop", "cache"); err == nil || !strings.Contains(err.Error(), "docker compose up -d cache") {
		t.Errorf("err %v, want a hint to start the service", err)
	}
}

func TestStopAndStartContainerGone(t *testing.T) {
	api := enginetest.New(t)
	err := engine.StopContainer(context.Background(), api, engine.Container{ID: "gone", Name: "shop-db-1"})
	if !errors.Is(err, engine.ErrContainerGone) || !strings.Contains(err.Error(), "shop-db-1") {
		t.Errorf("stop: %v, want ErrContainerGone naming the container", err)
	}
	if err := engine.StartContainer(context.Background(), api, "gone"); !errors.Is(err, engine.ErrContainerGone) {
		t.Errorf("start: %v, want ErrContainerGone", err)
	}
	api.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	if err := engine.StopContainer(context.Background(), api, engine.Container{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := api.Container("c1"); c.Running() {
		t.Error("c1 still runs after StopContainer")
	}
	if err := engine.StartContainer(context.Background(), api, "c1"); err != nil {
		t.Fatal(err)
	}
	if c, _ := api.Container("c1"); !c.Running() {
		t.Error("c1 does not run after StartContainer")
	}
}

func TestContainersWithLabels(t *testing.T) {
	api := enginetest.New(t)
	api.AddContainer(enginetest.Seed{ID: "a", Name: "a", Labels: map[string]string{"p": "shop", "run": "1"}})
	api.AddContainer(enginetest.Seed{ID: "b", Name: "b", Labels: map[string]string{"p": "shop"}, State: container.StateExited})
	api.AddContainer(enginetest.Seed{ID: "c", Name: "c", Labels: map[string]string{"p": "other", "run": "2"}})
	for _, tc := range []struct {
		labels []string
		want   []string
	}{
		{[]string{"p=shop"}, []string{"a", "b"}},
		{[]string{"p=shop", "run"}, []string{"a"}},
		{[]string{"run"}, []string{"a", "c"}},
		{[]string{"p=nope"}, nil},
	} {
		got, err := engine.ContainersWithLabels(context.Background(), api, tc.labels...)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%v: %v, want %v", tc.labels, ids, tc.want)
		}
	}
}

func TestRemoveContainerAndWaitExitToleratesGone(t *testing.T) {
	api := enginetest.New(t)
	if err := engine.RemoveContainer(context.Background(), api, "gone"); err != nil {
		t.Errorf("removing a container that is gone: %v", err)
	}
	if err := engine.WaitExit(context.Background(), api, "gone"); err != nil {
		t.Errorf("waiting for a container that is gone: %v", err)
	}
	id := api.AddContainer(enginetest.Seed{Name: "x"})
	if err := engine.RemoveContainer(context.Background(), api, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := api.Container(id); ok {
		t.Error("a running container was not removed")
	}
}

func TestInterruptSendsSIGINT(t *testing.T) {
	api := enginetest.New(t)
	id := api.AddContainer(enginetest.Seed{Name: "helper"})
	engine.Interrupt(context.Background(), api, id)
	c, _ := api.Container(id)
	if c.Running() || !slices.Equal(c.Signals, []string{"SIGINT"}) {
		t.Errorf("running %v after signals %v, want stopped by SIGINT alone", c.Running(), c.Signals)
	}
}

func TestVolumes(t *testing.T) {
	api := enginetest.New(t)
	ctx := context.Background()
	if err := engine.CreateVolume(ctx, api, "v1", map[string]string{"p": "shop", "kind": "x"}); err != nil {
		t.Fatal(err)
	}
	api.AddVolume("v2", map[string]string{"p": "shop"})
	api.AddVolume("v3", map[string]string{"p": "other", "kind": "x"})
	for name, want := range map[string]bool{"v1": true, "nope": false} {
		if got, err := engine.VolumeExists(ctx, api, name); err != nil || got != want {
			t.Errorf("VolumeExists(%s) = %v, %v", name, got, err)
		}
	}
	vs, err := engine.VolumesWithLabels(ctx, api, "p=shop", "kind")
	if err != nil || len(vs) != 1 || vs[0].Name != "v1" || vs[0].Labels["kind"] != "x" {
		t.Errorf("volumes %+v, %v, want v1 alone", vs, err)
	}
	if err := engine.RemoveVolumes(ctx, api, []string{"v1", "", "gone"}); err != nil {
		t.Errorf("removing volumes, one gone: %v", err)
	}
	if got := api.VolumeNames(); !slices.Equal(got, []string{"v2", "v3"}) {
		t.Errorf("volumes left %v", got)
	}
	api.AddContainer(enginetest.Seed{Name: "user", State: container.StateExited, Mounts: volumeMount("v2")})
	if err := engine.RemoveVolume(ctx, api, "v2"); err == nil {
		t.Error("a volume a container mounts was removed")
	}
	api.Fail("volume-inspect v3", errors.New("engine down"))
	if _, err := engine.VolumeExists(ctx, api, "v3"); err == nil || !strings.Contains(err.Error(), "engine down") {
		t.Errorf("err %v, want the engine's error", err)
	}
}

func TestStartHeldExcludesAndReleases(t *testing.T) {
	api := enginetest.New(t)
	ctx := context.Background()
	spec := engine.HeldSpec{Name: "docker-backup-run.shop", Image: "busybox", Entrypoint: []string{"/bin/busybox", "cat"}, Labels: map[string]string{"run": "1"}}
	held, err := engine.StartHeld(ctx, api, spec)
	if err != nil {
		t.Fatal(err)
	}
	st, found, err := engine.InspectState(ctx, api, spec.Name)
	if err != nil || !found || st.Status != "running" || st.ID != held.ID || st.Labels["run"] != "1" || time.Since(st.Created) > time.Minute {
		t.Fatalf("state %+v, found %v, err %v", st, found, err)
	}
	if _, err := engine.StartHeld(ctx, api, spec); !errors.Is(err, engine.ErrNameInUse) {
		t.Errorf("second StartHeld: %v, want ErrNameInUse", err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := engine.InspectState(ctx, api, spec.Name); found {
		t.Error("the held container is still there after Release")
	}
	c := api.Created()[0]
	if c.ExitCode != 0 || len(c.Signals) != 0 {
		t.Errorf("released container exited %d after signals %v, want 0 at the end of its input", c.ExitCode, c.Signals)
	}
}

func TestStartHeldRemovesWhatDidNotStart(t *testing.T) {
	api := enginetest.New(t)
	api.Fail("start docker-backup-run.shop", errors.New("no such image"))
	_, err := engine.StartHeld(context.Background(), api, engine.HeldSpec{Name: "docker-backup-run.shop", Image: "busybox"})
	if err == nil || !strings.Contains(err.Error(), "no such image") {
		t.Fatalf("err %v, want the start's error", err)
	}
	if got := api.Containers(); len(got) != 0 {
		t.Errorf("containers left after a failed start: %+v", got)
	}
}

func TestExecStreamsAndReturnsExitCode(t *testing.T) {
	api := enginetest.New(t)
	api.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	api.Exec = func(x *enginetest.ExecProcess) int {
		b, _ := io.ReadAll(x.Stdin)
		_, _ = io.WriteString(x.Stdout, "read "+string(b))
		_, _ = io.WriteString(x.Stderr, "user "+x.User)
		return 2
	}
	var stdout, stderr strings.Builder
	code, err := engine.Exec(context.Background(), api, "c1", engine.ExecSpec{
		Cmd: []string{"psql"}, User: "postgres", Stdin: strings.NewReader("SELECT 1;"), Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil || code != 2 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if stdout.String() != "read SELECT 1;" || stderr.String() != "user postgres" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if got := api.CallsWith("exec"); !slices.Equal(got, []string{"exec c1 psql"}) {
		t.Errorf("calls %v", got)
	}
	api.AddContainer(enginetest.ServiceContainer("c2", "shop", "web", false))
	if _, err := engine.Exec(context.Background(), api, "c2", engine.ExecSpec{Cmd: []string{"true"}}); err == nil {
		t.Error("an exec in a stopped container succeeded")
	}
}

func TestInfo(t *testing.T) {
	api := enginetest.New(t)
	api.SystemInfo = system.Info{Name: "host1", ID: "ABCD"}
	info, err := engine.Info(context.Background(), api)
	if err != nil || info != (engine.EngineInfo{Name: "host1", ID: "ABCD"}) {
		t.Errorf("info %+v, %v", info, err)
	}
	api.Fail("info", errors.New("cannot connect"))
	if _, err := engine.Info(context.Background(), api); err == nil || !strings.Contains(err.Error(), "cannot connect") {
		t.Errorf("err %v", err)
	}
}

func volumeMount(name string) []mount.Mount {
	return []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/data"}}
}

func TestSettleStop(t *testing.T) {
	ctx := context.Background()
	api := enginetest.New(t)
	if _, err := engine.SettleStop(ctx, api, "gone"); !errors.Is(err, engine.ErrContainerGone) {
		t.Errorf("gone: %v, want ErrContainerGone", err)
	}
	api.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", false))
	if running, err := engine.SettleStop(ctx, api, "c1"); running || err != nil {
		t.Errorf("stopped: running %v, %v", running, err)
	}
	// A stop under way ends while SettleStop waits for it.
	api.AddContainer(enginetest.ServiceContainer("c2", "shop", "web", true))
	api.Waiting = func(c enginetest.Container) {
		if c.ID == "c2" {
			api.Exit("c2", 0)
		}
	}
	if running, err := engine.SettleStop(ctx, api, "c2"); running || err != nil {
		t.Errorf("stopping: running %v, %v, want stopped", running, err)
	}
}

// A removal that the engine says is already in progress (another process began it) is
// waited for, not an error.
func TestRemoveContainerWaitsForARemovalInProgress(t *testing.T) {
	api := enginetest.New(t)
	api.Fail("remove gone1", fmt.Errorf("removal of container gone1 is already in progress: %w", cerrdefs.ErrConflict))
	if err := engine.RemoveContainer(context.Background(), api, "gone1"); err != nil {
		t.Errorf("RemoveContainer: %v", err)
	}
	api.Fail("remove other1", fmt.Errorf("you cannot remove a running container: %w", cerrdefs.ErrConflict))
	if err := engine.RemoveContainer(context.Background(), api, "other1"); err == nil {
		t.Error("another conflict was not an error")
	}
}
