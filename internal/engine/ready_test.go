package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// startThrowaway creates and starts a container with cfg. Its input is held open, so
// a program that reads it to the end (Cat) runs until the container is removed.
func startThrowaway(t *testing.T, api *enginetest.Engine, cfg container.Config) string {
	t.Helper()
	ctx := context.Background()
	cfg.AttachStdin, cfg.OpenStdin = true, true
	c, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "drill", Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	att, err := api.ContainerAttach(ctx, c.ID, client.ContainerAttachOptions{Stream: true, Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = engine.RemoveContainer(ctx, api, c.ID)
		att.Close()
	})
	return c.ID
}

var healthcheck = &container.HealthConfig{Test: []string{"CMD", "pg_isready"}}

func TestWaitReadyHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status container.HealthStatus
		want   string // in the error; "" for none
	}{
		{"healthy", container.Healthy, ""},
		{"unhealthy", container.Unhealthy, "is unhealthy: /var/run/postgresql:5432 - no response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := enginetest.New(t)
			api.Program = func(p *enginetest.Process) int {
				api.SetHealth(p.ID, container.Starting, "starting")
				api.SetHealth(p.ID, tc.status, "/var/run/postgresql:5432 - no response\n")
				return enginetest.Cat(p)
			}
			id := startThrowaway(t, api, container.Config{Healthcheck: healthcheck})
			probed := 0
			api.Exec = func(*enginetest.ExecProcess) int { probed++; return 0 }
			err := engine.WaitReady(context.Background(), api, id, []string{"probe"}, 10*time.Second)
			if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, engine.ErrNotReady) || !strings.Contains(fmt.Sprint(err), tc.want)) {
				t.Errorf("WaitReady: %v, want %q", err, tc.want)
			}
			// The probe runs once the container is healthy, never before.
			if want := map[bool]int{true: 1, false: 0}[tc.want == ""]; probed != want {
				t.Errorf("the probe ran %d times, want %d", probed, want)
			}
		})
	}
}

func TestWaitReadyHealthcheckTimeout(t *testing.T) {
	api := enginetest.New(t)
	id := startThrowaway(t, api, container.Config{Healthcheck: healthcheck})
	err := engine.WaitReady(context.Background(), api, id, nil, 50*time.Millisecond)
	if !errors.Is(err, engine.ErrNotReady) || !strings.Contains(err.Error(), "waited for its healthcheck to pass") {
		t.Errorf("WaitReady: %v, want a timeout that names the healthcheck", err)
	}
}

func TestWaitReadyProbe(t *testing.T) {
	api := enginetest.New(t)
	var tries atomic.Int32
	api.Exec = func(x *enginetest.ExecProcess) int {
		if tries.Add(1) < 3 {
			fmt.Fprintln(x.Stderr, "no response")
			return 2
		}
		return 0
	}
	// A disabled healthcheck is none: the probe decides.
	id := startThrowaway(t, api, container.Config{Healthcheck: &container.HealthConfig{Test: []string{"NONE"}}})
	if err := engine.WaitReady(context.Background(), api, id, []string{"pg_isready", "-q"}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	want := slices.Repeat([]string{"exec " + id + " pg_isready -q"}, 3)
	if got := api.CallsWith("exec"); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

func TestWaitReadyProbeTimeout(t *testing.T) {
	api := enginetest.New(t)
	api.Exec = func(x *enginetest.ExecProcess) int {
		fmt.Fprintln(x.Stderr, "no response")
		return 2
	}
	id := startThrowaway(t, api, container.Config{})
	err := engine.WaitReady(context.Background(), api, id, []string{"pg_isready"}, 300*time.Millisecond)
	want := `waited for "pg_isready" to succeed in it (last exit code 2: no response)`
	if !errors.Is(err, engine.ErrNotReady) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("WaitReady: %v, want %q", err, want)
	}
}

func TestWaitReadyExitWhileWaiting(t *testing.T) {
	api := enginetest.New(t)
	api.Program = func(p *enginetest.Process) int {
		fmt.Fprintln(p.Stdout, "starting")
		fmt.Fprintln(p.Stderr, "FATAL: data directory has wrong ownership")
		return 1
	}
	id := startThrowaway(t, api, container.Config{Healthcheck: healthcheck})
	err := engine.WaitReady(context.Background(), api, id, nil, 10*time.Second)
	want := "container " + engine.ShortID(id) + " exited with code 1 while waiting for it to be ready: starting | FATAL: data directory has wrong ownership"
	if !errors.Is(err, engine.ErrNotReady) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("WaitReady: %v, want %q", err, want)
	}
}

func TestWaitReadyWithoutHealthcheckOrProbe(t *testing.T) {
	api := enginetest.New(t)
	id := startThrowaway(t, api, container.Config{})
	if err := engine.WaitReady(context.Background(), api, id, nil, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := engine.WaitReady(context.Background(), api, "gone", nil, time.Second); !errors.Is(err, engine.ErrContainerGone) {
		t.Errorf("a missing container: %v, want ErrContainerGone", err)
	}
}
