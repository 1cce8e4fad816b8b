package enginetest

import (
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// SetHealth sets a container's healthcheck state, as the engine's healthcheck would,
// and adds output as the latest entry of its log. A program can call it to say that
// its container became healthy.
func (e *Engine) SetHealth(ref string, status container.HealthStatus, output string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.find(ref)
	if c == nil {
		e.t.Errorf("enginetest: SetHealth: no container %s", ref)
		return
	}
	if c.health == nil {
		c.health = &container.Health{}
	}
	code := 0
	if status == container.Unhealthy {
		code = 1
	}
	c.health.Status = status
	c.health.Log = append(c.health.Log, &container.HealthcheckResult{ExitCode: code, Output: output})
}

// hasHealthcheck reports whether a healthcheck is configured: one that is not NONE.
func hasHealthcheck(h *container.HealthConfig) bool {
	return h != nil && len(h.Test) > 0 && h.Test[0] != "NONE"
}

// healthCopy is the container's health as inspect shows it. The caller holds e.mu.
func (c *ctr) healthCopy() *container.Health {
	if c.health == nil {
		return nil
	}
	h := *c.health
	h.Log = slices.Clone(c.health.Log)
	return &h
}

// mountPoints are the mounts inspect shows for a host config, from both its Mounts
// and its Binds ("source:target[:options]"; a source that is not a path is a volume).
func mountPoints(hc container.HostConfig) []container.MountPoint {
	var out []container.MountPoint
	for _, m := range hc.Mounts {
		mp := container.MountPoint{Type: m.Type, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
		switch m.Type {
		case mount.TypeVolume:
			mp.Name, mp.Source, mp.Driver = m.Source, volumeData(m.Source), "local"
		case mount.TypeTmpfs:
			mp.Source = ""
		}
		out = append(out, mp)
	}
	for _, b := range hc.Binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 {
			continue
		}
		rw := len(parts) < 3 || !slices.Contains(strings.Split(parts[2], ","), "ro")
		mp := container.MountPoint{Type: mount.TypeBind, Source: parts[0], Destination: parts[1], RW: rw}
		if !strings.HasPrefix(parts[0], "/") {
			mp.Type, mp.Name, mp.Source, mp.Driver = mount.TypeVolume, parts[0], volumeData(parts[0]), "local"
		}
		out = append(out, mp)
	}
	return out
}

// volumeData is where the local driver keeps a volume's content.
func volumeData(name string) string { return "/var/lib/docker/volumes/" + name + "/_data" }
