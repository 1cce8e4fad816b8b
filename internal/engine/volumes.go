package engine

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// Volume is a volume as docker-backup needs it.
type Volume struct {
	Name   string
	Labels map[string]string
	// Driver and Options are the volume's driver and its options (compose's driver_opts):
	// for the local driver, type, o and device say what it mounts.
	Driver  string
	Options map[string]string
}

// memoryTypes are the filesystems the local driver can mount that live in memory: a
// new, empty one at each mount of the volume, gone when its last user stops.
var memoryTypes = map[string]bool{"tmpfs": true, "ramfs": true}

// InMemory returns the filesystem type ("tmpfs", "ramfs") when v is a local volume that
// mounts one: its content lasts only while some container uses it, so it cannot be put
// back while its service is stopped. Other drivers and local volumes that mount a device,
// a network share or a host folder (type nfs, cifs, none with o=bind…) keep their
// content across mounts; a third-party driver is taken to, as nothing tells.
func (v Volume) InMemory() string {
	if v.Driver != "local" {
		return ""
	}
	t := strings.ToLower(strings.TrimSpace(v.Options["type"]))
	if memoryTypes[t] {
		return t
	}
	return ""
}

// InspectVolume returns the named volume, its driver and options; one that does not
// exist is ErrNoVolume.
func InspectVolume(ctx context.Context, api API, name string) (Volume, error) {
	v, err := inspectVolume(ctx, api, name)
	if err != nil {
		return Volume{}, err
	}
	return Volume{Name: v.Name, Labels: v.Labels, Driver: v.Driver, Options: v.Options}, nil
}

// inspectVolume is the engine's view of the volume name; one that does not exist is
// ErrNoVolume.
func inspectVolume(ctx context.Context, api API, name string) (volume.Volume, error) {
	res, err := api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return volume.Volume{}, fmt.Errorf("volume %s: %w", name, ErrNoVolume)
	}
	if err != nil {
		return volume.Volume{}, fmt.Errorf("inspecting volume %s: %w", name, err)
	}
	return res.Volume, nil
}

// CreateVolume creates a named local volume with labels.
func CreateVolume(ctx context.Context, api API, name string, labels map[string]string) error {
	if _, err := api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: labels}); err != nil {
		return fmt.Errorf("creating volume %s: %w", name, err)
	}
	return nil
}

// ErrVolumeExists is a volume that was to be new but already exists.
var ErrVolumeExists = errors.New("volume already exists")

// ErrNoVolume is a volume that does not exist.
var ErrNoVolume = errors.New("no such volume")

// CreateNewVolume creates a volume that must not exist yet. The engine answers a create
// of an existing name with that volume, as if it had made it: two users would share it.
func CreateNewVolume(ctx context.Context, api API, name string, labels map[string]string) error {
	exists, err := VolumeExists(ctx, api, name)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("creating volume %s: %w", name, ErrVolumeExists)
	}
	return CreateVolume(ctx, api, name, labels)
}

// VolumeExists reports whether a volume of that exact name exists.
func VolumeExists(ctx context.Context, api API, name string) (bool, error) {
	_, err := api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("looking for volume %s: %w", name, err)
	}
}

// VolumesWithLabels lists the volumes that carry every given label ("key" or "key=value").
func VolumesWithLabels(ctx context.Context, api API, labels ...string) ([]Volume, error) {
	f := labelFilter(labels)
	res, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	out := make([]Volume, 0, len(res.Items))
	for _, v := range res.Items {
		out = append(out, Volume{Name: v.Name, Labels: v.Labels})
	}
	return out, nil
}

// RemoveVolume removes a volume; one that is already gone is not an error.
func RemoveVolume(ctx context.Context, api API, name string) error {
	if _, err := api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing volume %s: %w", name, err)
	}
	return nil
}

// RemoveVolumes removes the named volumes, skipping empty names. It is for cleanup
// paths: it tries them all and returns the first error.
func RemoveVolumes(ctx context.Context, api API, names []string) error {
	var first error
	for _, n := range names {
		if n == "" {
			continue
		}
		if err := RemoveVolume(ctx, api, n); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// VolumePlace is where a local volume keeps its content on the engine's host.
type VolumePlace struct {
	// Root is the engine's folder of volumes, Data the volume's content folder in it
	// (Root/<name>/_data); both empty when the volume is not a plain folder there (another
	// driver, or the local driver with mount options).
	Root, Data string
}

// VolumePlaceOf inspects the volume name and returns its place.
func VolumePlaceOf(ctx context.Context, api API, name string) (VolumePlace, error) {
	v, err := inspectVolume(ctx, api, name)
	if err != nil {
		return VolumePlace{}, err
	}
	mp := v.Mountpoint
	if v.Driver != "local" || len(v.Options) > 0 || path.Base(mp) != "_data" || path.Base(path.Dir(mp)) != name {
		return VolumePlace{}, nil
	}
	return VolumePlace{Root: path.Dir(path.Dir(mp)), Data: mp}, nil
}
