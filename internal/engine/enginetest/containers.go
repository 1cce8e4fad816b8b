package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// ContainerCreate creates a container; a name in use is a conflict.
func (e *Engine) ContainerCreate(_ context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call("create %s", o.Name); err != nil {
		return client.ContainerCreateResult{}, err
	}
	name := strings.TrimPrefix(o.Name, "/")
	if name != "" {
		if other := e.find(name); other != nil {
			//lint:ignore ST1005 the fake answers with the daemon's own words
			return client.ContainerCreateResult{}, fmt.Errorf(`Conflict. The container name "/%s" is already in use by container %q: %w`, name, other.ID, cerrdefs.ErrConflict)
		}
	} else {
		name = fmt.Sprintf("container-%d", e.seq+1)
	}
	if o.HostConfig != nil {
		if err := e.bindSources(o.HostConfig.Mounts, o.HostConfig.Binds); err != nil {
			return client.ContainerCreateResult{}, err
		}
	}
	c := &ctr{exited: make(chan struct{}), Container: Container{ID: e.newID(name), Name: name, State: container.StateCreated, Created: e.now(), Files: map[string]string{}}}
	if o.Config != nil {
		c.Config = *o.Config
		c.Config.Labels = maps.Clone(o.Config.Labels)
	}
	if o.Image != "" {
		c.Config.Image = o.Image
	}
	if o.HostConfig != nil {
		c.HostConfig = *o.HostConfig
	}
	e.live = append(e.live, c)
	e.created = append(e.created, c)
	return client.ContainerCreateResult{ID: c.ID}, nil
}

// bindSources checks the bind mounts' host paths against HostPaths, and creates those
// a mount asks to create and those of binds ("src:dst", which the engine creates). The
// caller holds e.mu.
func (e *Engine) bindSources(mounts []mount.Mount, binds []string) error {
	if e.HostPaths == nil {
		return nil
	}
	for _, b := range binds {
		src, _, _ := strings.Cut(b, ":")
		e.HostPaths[src] = true
	}
	for _, m := range mounts {
		if m.Type != mount.TypeBind || e.HostPaths[m.Source] {
			continue
		}
		if m.BindOptions != nil && m.BindOptions.CreateMountpoint {
			e.HostPaths[m.Source] = true
			continue
		}
		//lint:ignore ST1005 the fake answers with the daemon's own words
		return fmt.Errorf("Error response from daemon: invalid mount config for type \"bind\": bind source path does not exist: %s: %w", m.Source, cerrdefs.ErrInvalidArgument)
	}
	return nil
}

// ContainerInspect returns a container's ID, name, creation time, state and config.
func (e *Engine) ContainerInspect(_ context.Context, ref string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["inspect "+ref]; err != nil {
		return client.ContainerInspectResult{}, err
	}
	c := e.find(ref)
	if c == nil {
		return client.ContainerInspectResult{}, notFound(ref)
	}
	cfg, hc := c.Config, c.HostConfig
	cfg.Labels = maps.Clone(c.Config.Labels)
	image := c.imageID
	if image == "" {
		image = c.Config.Image
	}
	return client.ContainerInspectResult{Container: container.InspectResponse{
		ID: c.ID, Name: "/" + c.Name, Created: c.Created.UTC().Format(time.RFC3339Nano), Image: image,
		State:  &container.State{Status: c.State, Running: c.Running(), ExitCode: c.ExitCode, Health: c.healthCopy()},
		Config: &cfg, HostConfig: &hc, Mounts: mountPoints(hc),
	}}, nil
}

// ContainerList lists running containers, or all with All, that match the label
// ("key" or "key=value") and name (substring) filters.
func (e *Engine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["list"]; err != nil {
		return client.ContainerListResult{}, err
	}
	var out []container.Summary
	for _, c := range e.live {
		ok, err := matches(o.Filters, c.Name, c.Config.Labels)
		if err != nil {
			return client.ContainerListResult{}, err
		}
		if !ok || !o.All && !c.Running() {
			continue
		}
		out = append(out, container.Summary{
			ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Config.Image, Created: c.Created.Unix(),
			Labels: maps.Clone(c.Config.Labels), State: c.State,
		})
	}
	return client.ContainerListResult{Items: out}, nil
}

// matches applies the engine's label filters ("key" or "key=value") and name filters
// (substring). Other filters are refused, so a test never silently ignores one.
func matches(f client.Filters, name string, labels map[string]string) (bool, error) {
	for term, values := range f {
		for v := range values {
			switch term {
			case "label":
				k, want, hasValue := strings.Cut(v, "=")
				got, ok := labels[k]
				if !ok || hasValue && got != want {
					return false, nil
				}
			case "name":
				if !strings.Contains(name, v) {
					return false, nil
				}
			default:
				return false, fmt.Errorf("enginetest: filter %s=%s is not supported", term, v)
			}
		}
	}
	return true, nil
}

// ContainerAttach connects to a created or running container's streams.
func (e *Engine) ContainerAttach(_ context.Context, ref string, o client.ContainerAttachOptions) (client.ContainerAttachResult, error) {
	e.mu.Lock()
	c := e.find(ref)
	e.mu.Unlock()
	if c == nil {
		return client.ContainerAttachResult{}, notFound(ref)
	}
	cl, srv, err := e.sockets.pair()
	if err != nil {
		return client.ContainerAttachResult{}, err
	}
	e.mu.Lock()
	c.server, c.attachedIn, c.attachedOut, c.err = srv, o.Stdin, o.Stdout, o.Stderr
	e.mu.Unlock()
	return client.ContainerAttachResult{HijackedResponse: client.NewHijackedResponse(cl, "")}, nil
}

// CopyToContainer unpacks a tar stream into the container's Files.
func (e *Engine) CopyToContainer(_ context.Context, ref string, o client.CopyToContainerOptions) (client.CopyToContainerResult, error) {
	files, err := untar(o.DestinationPath, o.Content)
	if err != nil {
		return client.CopyToContainerResult{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.find(ref)
	if c == nil {
		return client.CopyToContainerResult{}, notFound(ref)
	}
	if c.Files == nil {
		c.Files = map[string]string{}
	}
	maps.Copy(c.Files, files)
	return client.CopyToContainerResult{}, nil
}

// CopyFromContainer packs one of the container's Files as a tar stream.
func (e *Engine) CopyFromContainer(_ context.Context, ref string, o client.CopyFromContainerOptions) (client.CopyFromContainerResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.find(ref)
	if c == nil {
		return client.CopyFromContainerResult{}, notFound(ref)
	}
	data, ok := c.Files[o.SourcePath]
	if !ok {
		return client.CopyFromContainerResult{}, notFound(o.SourcePath)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Base(o.SourcePath), Mode: 0o600, Size: int64(len(data))}); err != nil {
		return client.CopyFromContainerResult{}, err
	}
	if _, err := tw.Write([]byte(data)); err != nil {
		return client.CopyFromContainerResult{}, err
	}
	if err := tw.Close(); err != nil {
		return client.CopyFromContainerResult{}, err
	}
	return client.CopyFromContainerResult{Content: io.NopCloser(&buf)}, nil
}

// ContainerStart starts a container: a seeded one only changes state; a created one
// runs the Program, with the streams attached before.
func (e *Engine) ContainerStart(_ context.Context, ref string, _ client.ContainerStartOptions) (client.ContainerStartResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call("start %s", ref); err != nil {
		return client.ContainerStartResult{}, err
	}
	c := e.find(ref)
	if err := e.failed("start", c); err != nil {
		return client.ContainerStartResult{}, err
	}
	switch {
	case c == nil:
		return client.ContainerStartResult{}, notFound(ref)
	case c.Running():
		return client.ContainerStartResult{}, nil // the engine answers 304: nothing to do
	}
	c.State, c.ExitCode, c.killed = container.StateRunning, 0, false
	if hasHealthcheck(c.Config.Healthcheck) {
		c.health = &container.Health{Status: container.Starting}
	}
	if c.seeded {
		return client.ContainerStartResult{}, nil
	}
	e.run(c)
	return client.ContainerStartResult{}, nil
}

// ContainerStop stops a running container: a created one's program is killed (exit
// code 143), a seeded one exits 0. A container that does not run is left alone.
func (e *Engine) ContainerStop(_ context.Context, ref string, _ client.ContainerStopOptions) (client.ContainerStopResult, error) {
	e.mu.Lock()
	if err := e.call("stop %s", ref); err != nil {
		e.mu.Unlock()
		return client.ContainerStopResult{}, err
	}
	c := e.find(ref)
	err := e.failed("stop", c)
	e.mu.Unlock()
	switch {
	case err != nil:
		return client.ContainerStopResult{}, err
	case c == nil:
		return client.ContainerStopResult{}, notFound(ref)
	case c.seeded:
		e.exit(c, 0, true)
	default:
		e.exit(c, 143, true)
	}
	return client.ContainerStopResult{}, nil
}

// ContainerKill sends a signal: the container exits at once with 128 + the signal's
// number. One that does not run is a conflict, as with the engine.
func (e *Engine) ContainerKill(_ context.Context, ref string, o client.ContainerKillOptions) (client.ContainerKillResult, error) {
	sig := o.Signal
	if sig == "" {
		sig = "SIGKILL"
	}
	e.mu.Lock()
	if err := e.call("kill %s %s", ref, sig); err != nil {
		e.mu.Unlock()
		return client.ContainerKillResult{}, err
	}
	c := e.find(ref)
	if err := e.failed("kill", c); err != nil {
		e.mu.Unlock()
		return client.ContainerKillResult{}, err
	}
	if c == nil {
		e.mu.Unlock()
		return client.ContainerKillResult{}, notFound(ref)
	}
	if !c.Running() {
		e.mu.Unlock()
		return client.ContainerKillResult{}, notRunning(ref)
	}
	c.Signals = append(c.Signals, sig)
	e.mu.Unlock()
	e.exit(c, 128+signalNumber(sig), true)
	return client.ContainerKillResult{}, nil
}

func signalNumber(sig string) int {
	switch strings.TrimPrefix(sig, "SIG") {
	case "HUP":
		return 1
	case "INT":
		return 2
	case "QUIT":
		return 3
	case "TERM":
		return 15
	default:
		return 9
	}
}

// programGrace is how long ContainerRemove waits for a killed program to return.
const programGrace = 10 * time.Second

// ContainerRemove removes a container; a running one only with Force (it is killed).
// It returns once the container's program has returned, so what a program recorded is
// there when the code under test goes on.
func (e *Engine) ContainerRemove(_ context.Context, ref string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	e.mu.Lock()
	if err := e.call("remove %s", ref); err != nil {
		e.mu.Unlock()
		return client.ContainerRemoveResult{}, err
	}
	c := e.find(ref)
	if err := e.failed("remove", c); err != nil {
		e.mu.Unlock()
		return client.ContainerRemoveResult{}, err
	}
	if c == nil {
		e.mu.Unlock()
		return client.ContainerRemoveResult{}, notFound(ref)
	}
	if c.Running() && !o.Force {
		e.mu.Unlock()
		return client.ContainerRemoveResult{}, fmt.Errorf("cannot remove container %s: container is running: stop the container before removing or force remove: %w", ref, cerrdefs.ErrConflict)
	}
	e.mu.Unlock()
	e.exit(c, 137, true)
	e.mu.Lock()
	program := c.program
	e.live = slices.DeleteFunc(e.live, func(x *ctr) bool { return x == c })
	c.Removed = true
	e.mu.Unlock()
	if program != nil {
		timer := time.NewTimer(programGrace)
		defer timer.Stop()
		select {
		case <-program:
		case <-timer.C:
			e.t.Errorf("enginetest: the program of container %s did not return %s after it was killed", c.Name, programGrace)
		}
	}
	return client.ContainerRemoveResult{}, nil
}

// ContainerWait reports a container's exit: for not-running (the default) at once when
// it does not run, else, as for next-exit, at its next exit. A container that does not
// exist is a NotFound error. Waiting, if set, learns of each wait that has to wait.
func (e *Engine) ContainerWait(ctx context.Context, ref string, o client.ContainerWaitOptions) client.ContainerWaitResult {
	results := make(chan container.WaitResponse, 1)
	errs := make(chan error, 1)
	e.mu.Lock()
	c := e.find(ref)
	if c == nil {
		e.mu.Unlock()
		errs <- notFound(ref)
		return client.ContainerWaitResult{Result: results, Error: errs}
	}
	if o.Condition != container.WaitConditionNextExit && !c.Running() {
		results <- container.WaitResponse{StatusCode: int64(c.ExitCode)}
		e.mu.Unlock()
		return client.ContainerWaitResult{Result: results, Error: errs}
	}
	exited, waiting, seen := c.exited, e.Waiting, c.snapshot()
	e.mu.Unlock()
	go func() {
		select {
		case <-exited:
			e.mu.Lock()
			code := c.ExitCode
			e.mu.Unlock()
			results <- container.WaitResponse{StatusCode: int64(code)}
		case <-ctx.Done():
			errs <- ctx.Err()
		}
	}()
	if waiting != nil {
		waiting(seen)
	}
	return client.ContainerWaitResult{Result: results, Error: errs}
}

// run starts c's program. The caller holds e.mu.
func (e *Engine) run(c *ctr) {
	p := &Process{Container: c.snapshot(), Stdin: strings.NewReader(""), Stdout: discard{}, Stderr: discard{}}
	if c.server != nil {
		if c.attachedIn && c.Config.OpenStdin {
			p.Stdin = &input{conn: c.server, killed: func() bool {
				e.mu.Lock()
				defer e.mu.Unlock()
				return c.killed
			}}
		}
		if c.attachedOut {
			p.Stdout = frameWriter{w: c.server, stream: 1}
		}
		if c.err {
			p.Stderr = frameWriter{w: c.server, stream: 2}
		}
	}
	p.Stdout, p.Stderr = e.logged(c, 1, p.Stdout), e.logged(c, 2, p.Stderr)
	prog := e.Program
	if prog == nil {
		prog = Cat
	}
	done := make(chan struct{})
	c.program = done
	go func() {
		defer close(done)
		code := prog(p)
		e.exit(c, code, false)
	}()
}

// exit ends a running container with code: its output ends, its waiters learn the
// code. A killed container's connection is closed at once, so its program's reads fail.
func (e *Engine) exit(c *ctr, code int, killed bool) {
	e.mu.Lock()
	if !c.Running() {
		e.mu.Unlock()
		return
	}
	c.State, c.ExitCode, c.killed = container.StateExited, code, killed
	exited := c.exited
	c.exited = make(chan struct{})
	server := c.server
	c.server = nil
	e.mu.Unlock()
	if server != nil {
		if killed {
			server.Close()
		} else {
			endStream(server)
		}
	}
	close(exited)
}
