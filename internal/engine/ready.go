package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// readyPollInterval is how often WaitReady looks at the container, or runs its probe.
const readyPollInterval = 500 * time.Millisecond

// ErrNotReady is a container that did not become ready: it exited, turned unhealthy,
// or the time ran out.
var ErrNotReady = errors.New("the container did not become ready")

// WaitReady waits until a started container is ready for work: healthy, when it has a
// healthcheck (its image's or its own); then, when probe is given, once probe run in it
// exits 0 (a healthcheck may pass while an image's entrypoint still initialises its
// data with a temporary server); with neither, as soon as it runs. A container that exits meanwhile is an error with the
// end of its logs, an unhealthy one with its last health output; after timeout the
// error says what was waited for.
func WaitReady(ctx context.Context, api API, id string, probe []string, timeout time.Duration) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(readyPollInterval)
	defer ticker.Stop()
	waitingFor := "it to run"
	var last string // what the last look or probe said, for the timeout's error
	for {
		res, err := api.ContainerInspect(tctx, id, client.ContainerInspectOptions{})
		switch {
		case cerrdefs.IsNotFound(err):
			return fmt.Errorf("waiting for container %s: %w", ShortID(id), ErrContainerGone)
		case err != nil && tctx.Err() == nil:
			return fmt.Errorf("inspecting container %s: %w", ShortID(id), err)
		case err == nil:
			c := res.Container
			if c.State == nil || !c.State.Running && c.State.Status != container.StateCreated {
				return exitedError(ctx, api, c)
			}
			health := c.State.Health
			healthy := true
			if health != nil || c.Config != nil && configuresHealthcheck(c.Config.Healthcheck) {
				waitingFor, healthy = "its healthcheck to pass", false
				if health != nil {
					last = lastHealthOutput(health)
					switch health.Status {
					case container.Healthy:
						healthy = true
					case container.Unhealthy:
						return fmt.Errorf("container %s is unhealthy%s: %w", ShortID(id), last, ErrNotReady)
					}
				}
			}
			switch {
			case !healthy:
			case len(probe) > 0:
				waitingFor = fmt.Sprintf("%q to succeed in it", strings.Join(probe, " "))
				var out Tail
				code, err := Exec(tctx, api, id, ExecSpec{Cmd: probe, Stdout: &out, Stderr: &out})
				if err == nil && code == 0 {
					return nil
				}
				if err == nil {
					last = fmt.Sprintf(" (last exit code %d%s)", code, out.Suffix())
				} else if tctx.Err() == nil {
					last = fmt.Sprintf(" (last: %v)", err)
				}
			case c.State.Running:
				return nil
			case health != nil:
				return nil // healthy
			}
		}
		select {
		case <-tctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("container %s not ready after %s: waited for %s%s: %w", ShortID(id), timeout, waitingFor, last, ErrNotReady)
		case <-ticker.C:
		}
	}
}

// configuresHealthcheck reports whether a healthcheck is set and not disabled (NONE).
func configuresHealthcheck(h *container.HealthConfig) bool {
	return h != nil && len(h.Test) > 0 && h.Test[0] != "NONE"
}

// lastHealthOutput is ": <the last healthcheck's output>", or "" before the first.
func lastHealthOutput(h *container.Health) string {
	if len(h.Log) == 0 || h.Log[len(h.Log)-1] == nil {
		return ""
	}
	var t Tail
	_, _ = t.Write([]byte(h.Log[len(h.Log)-1].Output))
	return t.Suffix()
}

// exitedError says that a container exited while it was waited for, with its exit
// code and the end of its logs.
func exitedError(ctx context.Context, api API, c container.InspectResponse) error {
	code := -1
	if c.State != nil {
		code = c.State.ExitCode
	}
	return fmt.Errorf("container %s exited with code %d while waiting for it to be ready%s: %w",
		ShortID(c.ID), code, logTail(context.WithoutCancel(ctx), api, c), ErrNotReady)
}

// logLines is how many of its last log lines an error quotes (Tail keeps the last 5).
const logLines = "20"

// logTail is the end of a container's logs as Tail.Suffix gives it, or "".
func logTail(ctx context.Context, api API, c container.InspectResponse) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	logs, err := api.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: logLines})
	if err != nil {
		return ""
	}
	defer logs.Close()
	var t Tail
	if c.Config != nil && c.Config.Tty {
		_, _ = io.Copy(&t, logs)
	} else {
		_, _ = stdcopy.StdCopy(&t, &t, logs)
	}
	return t.Suffix()
}
