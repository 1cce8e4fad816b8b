package composeext

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/docker-backup/docker-backup/internal/snapshot"
)

// dataMounts lists a service's named volumes and bind mounts as the helper sees them.
// Anonymous volumes (no stable name), tmpfs and the like are not data we can find again.
func dataMounts(project *types.Project, service string, svc types.ServiceConfig) []Mount {
	var out []Mount
	for _, v := range svc.Volumes {
		switch {
		case v.Type == types.VolumeTypeVolume && v.Source != "":
			// compose-go has already applied name:, external and <project>_<key>.
			name := project.Name + "_" + v.Source
			if vol, ok := project.Volumes[v.Source]; ok && vol.Name != "" {
				name = vol.Name
			}
			out = append(out, Mount{Key: v.Source, Type: "volume", Source: name, Target: v.Target,
				Path: snapshot.VolumePath(service, v.Source)})
		case v.Type == types.VolumeTypeBind && v.Source != "":
			out = append(out, Mount{Key: v.Target, Type: "bind", Source: v.Source, Target: v.Target,
				Path: snapshot.VolumePath(service, bindPathName(v.Target))})
		}
	}
	return out
}

// bindPathName turns a bind target into one path element: /var/lib/x → var-lib-x.
func bindPathName(target string) string {
	return strings.TrimLeft(strings.ReplaceAll(target, "/", "-"), "-")
}

// holdsState reports whether a mount is data the service writes: read-only mounts are
// inputs (configuration, another service's data) and sockets are not files to save.
func holdsState(v types.ServiceVolumeConfig) bool {
	return !v.ReadOnly && !strings.HasSuffix(v.Source, ".sock")
}

// defaultMounts are the mounts the volumes strategy copies when none are named.
func defaultMounts(project *types.Project, service string, svc types.ServiceConfig) []Mount {
	all := dataMounts(project, service, svc)
	var out []Mount
	for _, m := range all {
		if holdsState(findVolume(svc, m)) {
			out = append(out, m)
		}
	}
	return out
}

// findVolume returns the compose volume entry a mount came from.
func findVolume(svc types.ServiceConfig, m Mount) types.ServiceVolumeConfig {
	for _, v := range svc.Volumes {
		if v.Target == m.Target {
			return v
		}
	}
	return types.ServiceVolumeConfig{}
}

// selectMounts resolves the volumes strategy's list of mounts, by compose key or target.
func (d *decoder) selectMounts(base string, project *types.Project, service string, svc types.ServiceConfig, names []string) []Mount {
	mounts := d.chooseMounts(base, project, service, svc, names)
	d.checkSnapshotPaths(base, mounts)
	return mounts
}

// checkSnapshotPaths refuses two mounts stored at one path of the snapshot (a volume
// keyed srv-site and a bind mount on /srv/site): one would hide the other.
func (d *decoder) checkSnapshotPaths(base string, mounts []Mount) {
	first := map[string]Mount{}
	for _, m := range mounts {
		if o, ok := first[m.Path]; ok {
			d.probs.addf(base+".volumes", "%s and %s would both be stored at %s in the snapshot (rename the volume, or leave one out)", o.Key, m.Key, m.Path)
			continue
		}
		first[m.Path] = m
	}
}

// chooseMounts picks the mounts a volumes service backs up: the named ones, or the
// writable data mounts.
func (d *decoder) chooseMounts(base string, project *types.Project, service string, svc types.ServiceConfig, names []string) []Mount {
	if names == nil {
		mounts := defaultMounts(project, service, svc)
		if len(mounts) == 0 {
			d.probs.addf(base, "strategy volumes, but service %s mounts no named volume or writable bind mount (want volumes: [...] or strategy none)", service)
		}
		return mounts
	}
	all := dataMounts(project, service, svc)
	var out []Mount
	seen := map[string]bool{}
	for i, name := range names {
		m, ok := findMount(all, name)
		if !ok {
			d.probs.addf(fmt.Sprintf("%s.volumes[%d]", base, i), "%q is not mounted by service %s (want one of: %s)",
				name, service, mountKeys(all))
			continue
		}
		if !seen[m.Key] {
			seen[m.Key] = true
			out = append(out, m)
		}
	}
	if len(names) == 0 {
		d.probs.addf(base+".volumes", "empty list (want at least one volume, or strategy none)")
	}
	return out
}

// findMount finds a mount by its compose key or its target path.
func findMount(all []Mount, name string) (Mount, bool) {
	for _, m := range all {
		if m.Key == name || m.Target == name || strings.TrimRight(name, "/") == m.Target {
			return m, true
		}
	}
	return Mount{}, false
}

// mountKeys lists mounts for a message.
func mountKeys(all []Mount) string {
	if len(all) == 0 {
		return "none: the service has no named volume or bind mount"
	}
	keys := make([]string, len(all))
	for i, m := range all {
		keys[i] = m.Key
	}
	return strings.Join(keys, ", ")
}

// unprotectedMounts lists the keys of a service's stateful mounts, for a service with no
// backup decision.
func unprotectedMounts(project *types.Project, service string, svc types.ServiceConfig) []string {
	var names []string
	for _, m := range defaultMounts(project, service, svc) {
		// What the user finds with docker volume ls, or on the host: the engine's name of
		// a volume (name:, external, <project>_<key>), the host path of a bind mount.
		names = append(names, m.Source)
	}
	return names
}
