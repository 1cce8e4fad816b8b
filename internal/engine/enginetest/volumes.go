package enginetest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// Volume is a volume the engine has. Only VolumeCreate and AddVolume make volumes: a
// mount of a missing volume does not.
type Volume struct {
	Name   string
	Labels map[string]string
}

// AddVolume adds a volume.
func (e *Engine) AddVolume(name string, labels map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.volumes[name] = &Volume{Name: name, Labels: maps.Clone(labels)}
}

// Volume returns a volume by name.
func (e *Engine) Volume(name string) (Volume, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.volumes[name]
	if !ok {
		return Volume{}, false
	}
	return Volume{Name: v.Name, Labels: maps.Clone(v.Labels)}, true
}

// Volumes returns the volumes, by name.
func (e *Engine) Volumes() []Volume {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Volume
	for _, name := range slices.Sorted(maps.Keys(e.volumes)) {
		v := e.volumes[name]
		out = append(out, Volume{Name: v.Name, Labels: maps.Clone(v.Labels)})
	}
	return out
}

// VolumeNames returns the volumes' names, sorted.
func (e *Engine) VolumeNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(maps.Keys(e.volumes))
}

// VolumeCreate creates a volume; as with the engine, one that exists is returned as is.
func (e *Engine) VolumeCreate(_ context.Context, o client.VolumeCreateOptions) (client.VolumeCreateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call("volume-create %s", o.Name); err != nil {
		return client.VolumeCreateResult{}, err
	}
	v, ok := e.volumes[o.Name]
	if !ok {
		v = &Volume{Name: o.Name, Labels: maps.Clone(o.Labels)}
		e.volumes[o.Name] = v
	}
	return client.VolumeCreateResult{Volume: volume.Volume{Name: v.Name, Driver: "local", Labels: maps.Clone(v.Labels)}}, nil
}

// VolumeInspect returns a volume, or a NotFound error.
func (e *Engine) VolumeInspect(_ context.Context, name string, _ client.VolumeInspectOptions) (client.VolumeInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["volume-inspect "+name]; err != nil {
		return client.VolumeInspectResult{}, err
	}
	v, ok := e.volumes[name]
	if !ok {
		return client.VolumeInspectResult{}, fmt.Errorf("get %s: no such volume: %w", name, cerrdefs.ErrNotFound)
	}
	return client.VolumeInspectResult{Volume: volume.Volume{Name: v.Name, Driver: "local", Labels: maps.Clone(v.Labels), Mountpoint: "/var/lib/docker/volumes/" + v.Name + "/_data"}}, nil
}

// VolumeList lists the volumes that match the label and name filters.
func (e *Engine) VolumeList(_ context.Context, o client.VolumeListOptions) (client.VolumeListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["volume-list"]; err != nil {
		return client.VolumeListResult{}, err
	}
	var res client.VolumeListResult
	for _, name := range slices.Sorted(maps.Keys(e.volumes)) {
		v := e.volumes[name]
		ok, err := matches(o.Filters, v.Name, v.Labels)
		if err != nil {
			return client.VolumeListResult{}, err
		}
		if ok {
			res.Items = append(res.Items, volume.Volume{Name: v.Name, Driver: "local", Labels: maps.Clone(v.Labels)})
		}
	}
	return res, nil
}

// VolumeRemove removes a volume: NotFound when there is none, a conflict while a
// container (running or not) mounts it.
func (e *Engine) VolumeRemove(_ context.Context, name string, _ client.VolumeRemoveOptions) (client.VolumeRemoveResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call("volume-remove %s", name); err != nil {
		return client.VolumeRemoveResult{}, err
	}
	if _, ok := e.volumes[name]; !ok {
		return client.VolumeRemoveResult{}, fmt.Errorf("get %s: no such volume: %w", name, cerrdefs.ErrNotFound)
	}
	for _, c := range e.live {
		for _, m := range c.HostConfig.Mounts {
			if m.Type == mount.TypeVolume && m.Source == name {
				return client.VolumeRemoveResult{}, fmt.Errorf("remove %s: volume is in use - [%s]: %w", name, c.ID, cerrdefs.ErrConflict)
			}
		}
	}
	delete(e.volumes, name)
	return client.VolumeRemoveResult{}, nil
}
