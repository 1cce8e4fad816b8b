package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// ErrNameInUse is a container name that another container already has.
var ErrNameInUse = errors.New("the container name is in use")

// HeldSpec describes a container that lives exactly as long as the program that
// started it: its command reads its standard input until the end (cat), and the
// program holds that input open. When the program ends, however it ends (kill -9
// included), the engine closes the input and the container exits: a running held
// container is proof that its program is alive, on whatever machine it runs.
type HeldSpec struct {
	Name       string
	Image      string
	Entrypoint []string
	Cmd        []string
	Labels     map[string]string
	// What a held container that also serves as a host for execs needs (see
	// HelperSpec); NetworkMode is "none" when empty.
	Env         []string
	Mounts      []mount.Mount
	Binds       []string
	Hostname    string
	NetworkMode string
	Init        bool
	Files       []File
}

// Held is a running held container.
type Held struct {
	ID  string
	api API
	att client.HijackedResponse
}

// StartHeld creates, attaches to and starts a held container. A name in use fails with
// ErrNameInUse; a container created but not started is removed again.
func StartHeld(ctx context.Context, api API, spec HeldSpec) (*Held, error) {
	network := spec.NetworkMode
	if network == "" {
		network = "none"
	}
	created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name,
		Config: &container.Config{
			Image: spec.Image, Entrypoint: spec.Entrypoint, Cmd: spec.Cmd, Labels: spec.Labels,
			Env: spec.Env, Hostname: spec.Hostname,
			AttachStdin: true, OpenStdin: true, StdinOnce: true,
		},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(network), Mounts: spec.Mounts, Binds: spec.Binds, Init: &spec.Init},
	})
	if cerrdefs.IsConflict(err) {
		return nil, fmt.Errorf("creating container %s: %w", spec.Name, ErrNameInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("creating container %s from image %s: %w", spec.Name, spec.Image, err)
	}
	h := &Held{ID: created.ID, api: api}
	fail := func(err error) (*Held, error) {
		_ = RemoveContainer(context.WithoutCancel(ctx), api, h.ID)
		return nil, err
	}
	if len(spec.Files) > 0 {
		if err := CopyFiles(ctx, api, h.ID, spec.Files); err != nil {
			return fail(err)
		}
	}
	att, err := api.ContainerAttach(ctx, h.ID, client.ContainerAttachOptions{Stream: true, Stdin: true})
	if err != nil {
		return fail(fmt.Errorf("attaching to container %s: %w", spec.Name, err))
	}
	h.att = att.HijackedResponse
	if _, err := api.ContainerStart(ctx, h.ID, client.ContainerStartOptions{}); err != nil {
		h.att.Close()
		return fail(fmt.Errorf("starting container %s: %w", spec.Name, err))
	}
	return h, nil
}

// releaseGrace is how long a released container gets to see the end of its input.
const releaseGrace = 5 * time.Second

// Release ends the container's input, lets it exit and removes it.
func (h *Held) Release(ctx context.Context) error {
	_ = h.att.CloseWrite()
	h.att.Close()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseGrace)
	defer cancel()
	_ = WaitExit(wctx, h.api, h.ID)
	return RemoveContainer(context.WithoutCancel(ctx), h.api, h.ID)
}

// ContainerState is a container's state as a run needs it to judge whether its program lives.
type ContainerState struct {
	ID      string
	Status  string // created, running, exited…
	Created time.Time
	Labels  map[string]string
}

// InspectState returns a container's state by name or ID; found is false when there is none.
func InspectState(ctx context.Context, api API, nameOrID string) (st ContainerState, found bool, err error) {
	res, err := api.ContainerInspect(ctx, nameOrID, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("inspecting container %s: %w", nameOrID, err)
	}
	c := res.Container
	st.ID = c.ID
	if c.State != nil {
		st.Status = string(c.State.Status)
	}
	if c.Config != nil {
		st.Labels = c.Config.Labels
	}
	st.Created, _ = time.Parse(time.RFC3339Nano, c.Created)
	return st, true, nil
}
