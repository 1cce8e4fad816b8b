// Package enginetest is an in-memory Docker engine for unit tests: containers (created,
// started, stopped, killed, removed, waited for, attached to), volumes, execs and the
// engine's identity, with the engine's errors (github.com/containerd/errdefs) so that
// cerrdefs.IsNotFound and IsConflict work as against a real engine.
//
// Engine embeds engine.API: a call it does not implement panics, so a test that reaches
// the engine unexpectedly fails loudly. What a created container does once started is
// a Program (Cat when none is set); Restic is a Program that plays restic; what an exec
// does is an ExecProgram.
package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/engine"
)

// Engine is the fake engine. Set its exported fields before the code under test runs.
type Engine struct {
	engine.API

	// Program is what a container made with ContainerCreate does once started; Cat
	// when nil.
	Program Program
	// Exec is what an exec does; when nil it exits 0 and prints nothing.
	Exec ExecProgram
	// SystemInfo is what Info returns.
	SystemInfo system.Info
	// Now dates the containers created; time.Now when nil.
	Now func() time.Time
	// Waiting, if set, is called when a ContainerWait begins to wait for a container's
	// exit, with the container as it is: a test can end it then (Exit), as a stop under
	// way would, without sleeping.
	Waiting func(c Container)

	t       testing.TB
	sockets sockets

	mu      sync.Mutex
	seq     int
	live    []*ctr // containers that exist, in creation order
	created []*ctr // every container made with ContainerCreate, removed ones too
	volumes map[string]*Volume
	execs   map[string]*execState
	calls   []string
	fail    map[string]error
}

// New returns an empty engine whose connections and processes end with the test.
func New(t testing.TB) *Engine {
	e := &Engine{t: t, volumes: map[string]*Volume{}, execs: map[string]*execState{}, fail: map[string]error{}}
	t.Cleanup(e.sockets.close)
	return e
}

// Container is what the engine knows of a container.
type Container struct {
	ID         string
	Name       string
	Config     container.Config
	HostConfig container.HostConfig
	State      container.ContainerState
	ExitCode   int
	Created    time.Time
	// Files were copied into the container (CopyToContainer), by absolute path.
	Files map[string]string
	// Signals were sent to it with ContainerKill, in order.
	Signals []string
	// Removed is true once ContainerRemove removed it.
	Removed bool
}

// Labels are the container's labels.
func (c Container) Labels() map[string]string { return c.Config.Labels }

// Running reports whether the container runs.
func (c Container) Running() bool { return c.State == container.StateRunning }

// ctr is a container and what the engine runs for it.
type ctr struct {
	Container
	// seeded is a container the test added: it has no program.
	seeded bool
	// server is the engine's end of the attach connection, and what was attached.
	server                       net.Conn
	attachedIn, attachedOut, err bool
	// exited is closed at the container's next exit, then replaced.
	exited chan struct{}
	// program is closed when the program of the current start has returned.
	program chan struct{}
	killed  bool
}

// snapshot copies what a test may look at.
func (c *ctr) snapshot() Container {
	out := c.Container
	out.Config.Labels = maps.Clone(c.Config.Labels)
	out.Files = maps.Clone(c.Files)
	out.Signals = slices.Clone(c.Signals)
	return out
}

// Seed is a container that exists before the code under test runs: a service
// container, or what an earlier run left. It has no program: starting, stopping and
// killing it only change its state.
type Seed struct {
	ID, Name string
	Image    string
	Labels   map[string]string
	// State is running when empty.
	State   container.ContainerState
	Created time.Time
	Mounts  []mount.Mount
}

// AddContainer adds a container and returns its ID (Seed.ID, or a new one).
func (e *Engine) AddContainer(s Seed) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.State == "" {
		s.State = container.StateRunning
	}
	if s.Name == "" {
		s.Name = fmt.Sprintf("container-%d", e.seq+1)
	}
	if s.ID == "" {
		s.ID = e.newID(s.Name)
	}
	if s.Created.IsZero() {
		s.Created = e.now()
	}
	c := &ctr{seeded: true, exited: make(chan struct{}), Container: Container{
		ID: s.ID, Name: s.Name, State: s.State, Created: s.Created,
		Config:     container.Config{Image: s.Image, Labels: maps.Clone(s.Labels)},
		HostConfig: container.HostConfig{Mounts: s.Mounts},
	}}
	e.live = append(e.live, c)
	return s.ID
}

// ComposeLabels are the labels compose puts on a service's first container.
func ComposeLabels(project, service string) map[string]string {
	return map[string]string{
		engine.LabelProject: project, engine.LabelService: service,
		engine.LabelOneoff: "False", engine.LabelContainer: "1",
	}
}

// ServiceContainer is compose's first container of a service, named as compose names it.
func ServiceContainer(id, project, service string, running bool) Seed {
	state := container.StateExited
	if running {
		state = container.StateRunning
	}
	return Seed{ID: id, Name: project + "-" + service + "-1", Labels: ComposeLabels(project, service), State: state}
}

// Container returns a container that exists, by ID or name.
func (e *Engine) Container(ref string) (Container, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.find(ref); c != nil {
		return c.snapshot(), true
	}
	return Container{}, false
}

// Containers returns the containers that exist, in creation order.
func (e *Engine) Containers() []Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Container, 0, len(e.live))
	for _, c := range e.live {
		out = append(out, c.snapshot())
	}
	return out
}

// Created returns every container made with ContainerCreate, in order, removed ones
// included: the helpers a test ran.
func (e *Engine) Created() []Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Container, 0, len(e.created))
	for _, c := range e.created {
		out = append(out, c.snapshot())
	}
	return out
}

// Exit ends a running container with code, as if its process had exited.
func (e *Engine) Exit(ref string, code int) {
	e.mu.Lock()
	c := e.find(ref)
	e.mu.Unlock()
	if c == nil {
		e.t.Errorf("enginetest: Exit: no container %s", ref)
		return
	}
	e.exit(c, code, false)
}

// Calls returns what was asked of the engine that changes something, in order:
// "create NAME", "start REF", "stop REF", "kill REF SIGNAL", "remove REF",
// "exec REF CMD…", "volume-create NAME", "volume-remove NAME", and what tests added
// with Record. REF is what the caller passed, usually the ID.
func (e *Engine) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// CallsWith returns the calls that begin with one of the prefixes, in order.
func (e *Engine) CallsWith(prefixes ...string) []string {
	var out []string
	for _, c := range e.Calls() {
		for _, p := range prefixes {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Record adds an entry to the calls, for a program to say what it did.
func (e *Engine) Record(call string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
}

// Fail makes a call fail with err from now on. call is as Calls shows it ("start c1",
// "volume-create NAME"; for a container, REF may also be its name), or, for calls that
// change nothing, "list", "volume-list", "inspect REF", "volume-inspect NAME" or "info".
func (e *Engine) Fail(call string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fail[call] = err
}

// call records a call that changes something and returns its injected error.
func (e *Engine) call(format string, args ...any) error {
	s := fmt.Sprintf(format, args...)
	e.calls = append(e.calls, s)
	return e.fail[s]
}

// failed returns the error injected for op on container c by its name. The caller
// holds e.mu.
func (e *Engine) failed(op string, c *ctr) error {
	if c == nil {
		return nil
	}
	return e.fail[op+" "+c.Name]
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// newID returns a container ID as the engine makes them: 64 hex digits.
func (e *Engine) newID(name string) string {
	e.seq++
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s", e.seq, name))
	return hex.EncodeToString(sum[:])
}

// find returns the container with that ID or name, or nil. The caller holds e.mu.
func (e *Engine) find(ref string) *ctr {
	ref = strings.TrimPrefix(ref, "/")
	for _, c := range e.live {
		if c.ID == ref || c.Name == ref {
			return c
		}
	}
	return nil
}

func notFound(ref string) error {
	return fmt.Errorf("No such container: %s: %w", ref, cerrdefs.ErrNotFound)
}

func notRunning(ref string) error {
	return fmt.Errorf("container %s is not running: %w", ref, cerrdefs.ErrConflict)
}

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
			return client.ContainerCreateResult{}, fmt.Errorf(`Conflict. The container name "/%s" is already in use by container %q: %w`, name, other.ID, cerrdefs.ErrConflict)
		}
	} else {
		name = fmt.Sprintf("container-%d", e.seq+1)
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
	return client.ContainerInspectResult{Container: container.InspectResponse{
		ID: c.ID, Name: "/" + c.Name, Created: c.Created.UTC().Format(time.RFC3339Nano), Image: c.Config.Image,
		State:  &container.State{Status: c.State, Running: c.Running(), ExitCode: c.ExitCode},
		Config: &cfg, HostConfig: &hc,
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

// Info returns SystemInfo.
func (e *Engine) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["info"]; err != nil {
		return client.SystemInfoResult{}, err
	}
	return client.SystemInfoResult{Info: e.SystemInfo}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
