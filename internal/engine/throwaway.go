package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// ThrowawaySpec describes a throwaway copy of a running service container: a restore
// drill loads a backup into it while the service itself runs on, untouched.
type ThrowawaySpec struct {
	// From is the ID of the service container whose configuration is cloned.
	From string
	// Name is the new container's name, and the prefix of its volumes' names.
	Name string
	// Labels are the container's and its volumes' only labels: none of compose's, so
	// that compose never takes the copy for a container of its project.
	Labels map[string]string
	// Env ("KEY=value") overrides the service's variables of the same keys and adds
	// the others.
	Env []string
	// Passwords are variables that hold passwords (POSTGRES_PASSWORD…): each one the
	// service sets, itself or as NAME_FILE, gets a new random value in the copy, and
	// NAME_FILE is dropped, so the live password is neither used there nor shown.
	Passwords []string
}

// CreateThrowaway creates and starts a copy of the running container spec.From: its
// image (by ID, so a retagged image changes nothing), entrypoint, command, environment
// (with spec.Env), user, working directory, healthcheck, stop signal and timeout,
// tmpfs, shm size, resource limits, init, privileges and capabilities; but none of its
// ports, restart policy or networks (network mode "none"), and none of its data: each
// volume and read-write bind is replaced by a new empty volume at the same target,
// which the engine fills from the image as it would a new volume of the service.
// Read-only binds (configuration files) are kept, read-only, and tmpfs mounts as they
// are; but binds of sockets and devices are dropped (see leftOut): a copy with the
// engine's socket could drive the engine, and reach the live service, from network none. It returns the container's ID and the volumes it created, for RemoveThrowaway.
// Nothing is left behind when it fails.
func CreateThrowaway(ctx context.Context, api API, spec ThrowawaySpec) (id string, volumes []string, err error) {
	res, err := api.ContainerInspect(ctx, spec.From, client.ContainerInspectOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("inspecting container %s: %w", ShortID(spec.From), err)
	}
	from := res.Container
	if from.Config == nil || from.HostConfig == nil {
		return "", nil, fmt.Errorf("inspecting container %s: the engine gave no configuration", ShortID(spec.From))
	}
	mounts, fresh, err := throwawayMounts(spec.Name, from)
	if err != nil {
		return "", nil, fmt.Errorf("cloning container %s: %w", ShortID(spec.From), err)
	}

	cleanup := context.WithoutCancel(ctx)
	defer func() {
		if err != nil {
			if id != "" {
				_ = RemoveContainer(cleanup, api, id)
			}
			_ = RemoveVolumes(cleanup, api, volumes)
			id, volumes = "", nil
		}
	}()
	for _, name := range fresh {
		// A volume of that name that exists is somebody's data: never share it.
		if err := CreateNewVolume(ctx, api, name, spec.Labels); err != nil {
			return "", volumes, fmt.Errorf("throwaway copy of container %s: %w", ShortID(spec.From), err)
		}
		volumes = append(volumes, name)
	}
	created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       spec.Name,
		Config:     throwawayConfig(from, spec),
		HostConfig: throwawayHostConfig(from.HostConfig, mounts),
	})
	if cerrdefs.IsConflict(err) {
		return "", volumes, fmt.Errorf("creating throwaway container %s: %w", spec.Name, ErrNameInUse)
	}
	if err != nil {
		return "", volumes, fmt.Errorf("creating throwaway container %s of container %s: %w", spec.Name, ShortID(spec.From), err)
	}
	id = created.ID
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return id, volumes, fmt.Errorf("starting throwaway container %s: %w", spec.Name, err)
	}
	return id, volumes, nil
}

// ImageAndUser are the image (by ID) and user a container runs with: a throwaway
// container of a service's image runs as the service does.
func ImageAndUser(ctx context.Context, api API, id string) (image, user string, err error) {
	res, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", "", fmt.Errorf("inspecting container %s: %w", ShortID(id), err)
	}
	if c := res.Container.Config; c != nil {
		user = c.User
	}
	return imageOf(res.Container), user, nil
}

// imageOf is the image a container runs: its ID, whatever its tag points to now, or
// the name it was created from when the engine gives no ID.
func imageOf(c container.InspectResponse) string {
	if c.Image == "" && c.Config != nil {
		return c.Config.Image
	}
	return c.Image
}

// RemoveThrowaway removes a throwaway container, running or not, and its volumes; what
// is already gone is not an error.
func RemoveThrowaway(ctx context.Context, api API, id string, volumes []string) error {
	var cerr error
	if id != "" {
		cerr = RemoveContainer(ctx, api, id)
	}
	// The volumes cannot go while the container that mounts them exists; trying
	// anyway removes those a failed removal left unmounted.
	return errors.Join(cerr, RemoveVolumes(ctx, api, volumes))
}

// throwawayConfig is the service container's configuration with our labels and env.
func throwawayConfig(from container.InspectResponse, spec ThrowawaySpec) *container.Config {
	c := from.Config
	return &container.Config{
		Image:       imageOf(from),
		Entrypoint:  slices.Clone(c.Entrypoint),
		Cmd:         slices.Clone(c.Cmd),
		Env:         overrideEnv(c.Env, append(throwawayPasswords(c.Env, spec.Passwords), spec.Env...)),
		User:        c.User,
		WorkingDir:  c.WorkingDir,
		Healthcheck: c.Healthcheck,
		StopSignal:  c.StopSignal,
		StopTimeout: c.StopTimeout,
		Labels:      maps.Clone(spec.Labels),
	}
}

// throwawayHostConfig keeps what the service needs to run as it does (limits,
// privileges, tmpfs) and drops what connects it to the world or to its data.
func throwawayHostConfig(h *container.HostConfig, mounts []mount.Mount) *container.HostConfig {
	return &container.HostConfig{
		NetworkMode:    "none",
		Mounts:         mounts,
		Tmpfs:          maps.Clone(h.Tmpfs),
		ShmSize:        h.ShmSize,
		Resources:      h.Resources,
		Init:           h.Init,
		Privileged:     h.Privileged,
		CapAdd:         slices.Clone(h.CapAdd),
		CapDrop:        slices.Clone(h.CapDrop),
		SecurityOpt:    slices.Clone(h.SecurityOpt),
		GroupAdd:       slices.Clone(h.GroupAdd),
		ReadonlyRootfs: h.ReadonlyRootfs,
		OomScoreAdj:    h.OomScoreAdj,
	}
}

// throwawayPasswords gives each password variable that env sets, itself or as its
// _FILE variant, a random value, and empties the _FILE variant (an image's entrypoint
// reads the file only when it is set).
func throwawayPasswords(env, passwords []string) []string {
	set := map[string]bool{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v != ""
	}
	var over []string
	for _, name := range passwords {
		if !set[name] && !set[name+"_FILE"] {
			continue
		}
		over = append(over, name+"="+randomPassword())
		if _, ok := set[name+"_FILE"]; ok {
			over = append(over, name+"_FILE=")
		}
	}
	return over
}

// randomPassword is 24 random hex digits.
func randomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// overrideEnv is env with the variables of over replacing those of the same key, in
// env's order, and over's new keys after.
func overrideEnv(env, over []string) []string {
	key := func(kv string) string { k, _, _ := strings.Cut(kv, "="); return k }
	byKey := map[string]string{}
	for _, kv := range over {
		byKey[key(kv)] = kv
	}
	out := make([]string, 0, len(env)+len(over))
	seen := map[string]bool{}
	for _, kv := range env {
		k := key(kv)
		if o, ok := byKey[k]; ok {
			if !seen[k] {
				out = append(out, o)
			}
			seen[k] = true
			continue
		}
		out = append(out, kv)
	}
	for _, kv := range over {
		if k := key(kv); !seen[k] {
			out = append(out, kv)
			seen[k] = true
		}
	}
	return out
}

// throwawayMounts maps the service container's mounts (as inspect shows them: its
// Mounts, its Binds and its image's anonymous volumes) onto the copy's, and names the
// new volumes among them.
func throwawayMounts(name string, from container.InspectResponse) (mounts []mount.Mount, fresh []string, err error) {
	// A tmpfs mount keeps its options (size, mode), which only the host config has.
	for _, m := range from.HostConfig.Mounts {
		if m.Type == mount.TypeTmpfs {
			mounts = append(mounts, m)
		}
	}
	used := map[string]bool{}
	for _, mp := range from.Mounts {
		switch {
		case mp.Type == mount.TypeBind && leftOut(mp.Source, mp.Destination):
			// Not the service's data, and a way out of the copy's isolation.
		case mp.Type == mount.TypeTmpfs:
			// Among the host config's mounts (above) or its Tmpfs.
		case mp.Type == mount.TypeBind && !mp.RW:
			mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: mp.Source, Target: mp.Destination, ReadOnly: true})
		case mp.Type == mount.TypeBind || mp.Type == mount.TypeVolume:
			v := volumeName(name, mp.Destination, used)
			fresh = append(fresh, v)
			mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: v, Target: mp.Destination})
		default:
			return nil, nil, fmt.Errorf("mount at %s: a %s mount cannot be copied", mp.Destination, mp.Type)
		}
	}
	return mounts, fresh, nil
}

// leftOut reports whether a bind mount of the engine's host path source at target is
// kept out of a throwaway copy: a socket (named *.sock, as the engine's own are:
// docker.sock, containerd.sock, a rootless engine's /run/user/1000/docker.sock), a
// folder that holds an engine's socket (/run, /var/run, /run/user/<uid>), or a device
// (/dev/…). A drill needs none of them to load and check a backup, and each is a way
// out of network none: the engine's socket alone creates containers on the host.
func leftOut(source, target string) bool {
	source = path.Clean(source)
	switch {
	case strings.HasSuffix(source, ".sock"), strings.HasSuffix(path.Clean(target), ".sock"):
		return true
	case source == "/dev" || strings.HasPrefix(source, "/dev/"):
		return true
	case source == "/run" || source == "/var/run":
		return true
	}
	for _, runDir := range []string{"/run/user/", "/var/run/user/"} {
		if rest, ok := strings.CutPrefix(source, runDir); ok && rest != "" && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}

// maxSuffix is how long a volume name's suffix, made of its target, may be.
const maxSuffix = 40

// volumeName is prefix-<target as a name>: /var/lib/postgresql/data gives
// prefix-var-lib-postgresql-data. A long target, or one that would give a name used
// already, ends with a hash of it instead.
func volumeName(prefix, target string, used map[string]bool) string {
	var b strings.Builder
	for _, r := range strings.Trim(target, "/") {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	suffix := strings.Trim(b.String(), "-.")
	if suffix == "" {
		suffix = "root"
	}
	sum := sha256.Sum256([]byte(target))
	hash := hex.EncodeToString(sum[:4])
	if len(suffix) > maxSuffix {
		cut := len(suffix) - maxSuffix + len(hash) + 1
		tail := suffix[cut:]
		if i := strings.IndexByte(tail, '-'); i >= 0 && suffix[cut-1] != '-' {
			tail = tail[i+1:] // whole folder names only
		}
		suffix = strings.Trim(tail, "-.") + "-" + hash
	}
	if used[suffix] {
		suffix += "-" + hash
	}
	used[suffix] = true
	return prefix + "-" + suffix
}
