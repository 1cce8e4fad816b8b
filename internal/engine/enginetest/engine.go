// Package enginetest is an in-memory Docker engine for unit tests: containers (created,
// started, stopped, killed, removed, waited for, attached to), volumes, execs and the
// engine's identity, with the engine's errors (github.com/containerd/errdefs) so that
// cerrdefs.IsNotFound and IsConflict work as against a real engine.
//
// Engine embeds engine.API: a call it does not implement panics, so a test that reaches
// the engine unexpectedly fails loudly. What a created container does once started is
// a Program (Cat when none is set); Restic is a Program that plays restic; Agent plays
// a dump helper with the agent's own code; what an exec does is an ExecProgram. Swarm
// makes it a swarm node, a manager listing the services, tasks and nodes a test declares.
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
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// Engine is the fake engine. Set its exported fields before the code under test runs.
type Engine struct {
	engine.API

	// Program is what a container made with ContainerCreate does once started; Cat
	// when nil.
	Program Program
	// Exec is what an exec does; when nil it exits 0 and prints nothing.
	Exec ExecProgram
	// SystemInfo is what Info returns (with Swarm's part, when set).
	SystemInfo system.Info
	// Swarm, if set, makes the engine a node of that swarm (swarm.go).
	Swarm *Swarm
	// Socket, if set, is the engine a dump helper's socket reaches (Agent): another
	// engine on the same host, as a wrong x-backup.docker_socket gives.
	Socket engine.API
	// Now dates the containers created; time.Now when nil.
	Now func() time.Time
	// HostPaths, if not nil, are the folders that exist on the engine's host: creating a
	// container that bind-mounts any other path fails as the engine fails it, unless the
	// mount asks to create it (BindOptions.CreateMountpoint) or comes as HostConfig.Binds,
	// which adds it. Nil: every path exists.
	HostPaths map[string]bool
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
	images  map[string]string // image reference → ID
	// imageLabels are the labels of the images built, by reference.
	imageLabels map[string]map[string]string
	builds      []Build
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
	// imageID is the ID of the image it runs (the reference when empty); health its
	// healthcheck's state (nil without one); logs what its program wrote.
	imageID string
	health  *container.Health
	logs    []logChunk
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
	// Config and HostConfig, if set, are the rest of its configuration: Image, Labels
	// and Mounts above take precedence over theirs when set.
	Config     *container.Config
	HostConfig *container.HostConfig
	// ImageID is the ID of the image it runs, as inspect shows it; Image when empty.
	ImageID string
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
	c := &ctr{seeded: true, exited: make(chan struct{}), imageID: s.ImageID, Container: Container{
		ID: s.ID, Name: s.Name, State: s.State, Created: s.Created,
	}}
	if s.Config != nil {
		c.Config = *s.Config
	}
	if s.HostConfig != nil {
		c.HostConfig = *s.HostConfig
	}
	if s.Image != "" {
		c.Config.Image = s.Image
	}
	if s.Labels != nil {
		c.Config.Labels = maps.Clone(s.Labels)
	} else {
		c.Config.Labels = maps.Clone(c.Config.Labels)
	}
	if s.Mounts != nil {
		c.HostConfig.Mounts = s.Mounts
	}
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
func (e *Engine) Containers() []Container { return e.snapshots(func() []*ctr { return e.live }) }

// Created returns every container made with ContainerCreate, in order, removed ones
// included: the helpers a test ran.
func (e *Engine) Created() []Container { return e.snapshots(func() []*ctr { return e.created }) }

// snapshots copies the containers list returns, under the engine's lock.
func (e *Engine) snapshots(list func() []*ctr) []Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	cs := list()
	out := make([]Container, 0, len(cs))
	for _, c := range cs {
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
// change nothing, "list", "volume-list", "inspect REF", "volume-inspect NAME", "image-inspect REF", "info",
// "service-list", "task-list" or "node-list".
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
	//lint:ignore ST1005 the fake answers with the daemon's own words
	return fmt.Errorf("No such container: %s: %w", ref, cerrdefs.ErrNotFound)
}

func notRunning(ref string) error {
	return fmt.Errorf("container %s is not running: %w", ref, cerrdefs.ErrConflict)
}

// Info returns SystemInfo.
func (e *Engine) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["info"]; err != nil {
		return client.SystemInfoResult{}, err
	}
	info := e.SystemInfo
	if sw := e.Swarm; sw != nil {
		info.Swarm = swarm.Info{NodeID: sw.NodeID, LocalNodeState: swarm.LocalNodeStateActive, ControlAvailable: sw.Manager,
			Cluster: e.SystemInfo.Swarm.Cluster}
	}
	return client.SystemInfoResult{Info: info}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
