package helper

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// Only the dump helpers get the engine's socket; they run the agent's dump command
// with the spec as a file, and no secret of the spec or the repository shows in
// their argv, environment or labels.
func TestHelperSpecSocketOnlyForDumpHelpers(t *testing.T) {
	c := &Runner{Image: "docker-backup-agent:test", Project: "shop", DockerSocket: "/run/user/1000/docker.sock", RunID: "r1",
		Repo: Repo{URL: "/srv/backups", Local: true, Password: []byte("hunter2"), Env: map[string]string{"B2_ACCOUNT_KEY": "b2secret"}}}
	spec := dump.Spec{Container: "c1", Cmd: []string{"sh", "-c", "PGPASSWORD=dbsecret pg_dumpall"}}
	files := []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}}
	for _, kind := range []string{"backup", "snapshots", "dump-read", "restore", KindDump, KindDumpRestore} {
		t.Run(kind, func(t *testing.T) {
			h := c.helperSpec(restic.Invocation{Args: []string{"backup", "--stdin"}, Kind: kind, Service: "db", Files: files})
			socket := slices.Contains(SocketKinds(), kind)
			mounted := slices.ContainsFunc(h.Mounts, func(m mount.Mount) bool { return m.Target == agent.EngineSocket })
			if mounted != socket {
				t.Fatalf("socket mounted: %v, want %v (mounts %v)", mounted, socket, h.Mounts)
			}
			if !socket {
				if !slices.Equal(h.Entrypoint, ResticEntrypoint) || h.HoldStdin {
					t.Errorf("entrypoint %q, held input %v: want restic through the agent", h.Entrypoint, h.HoldStdin)
				}
				return
			}
			if !slices.ContainsFunc(h.Mounts, func(m mount.Mount) bool {
				return m.Type == mount.TypeBind && m.Source == "/run/user/1000/docker.sock" && m.Target == agent.EngineSocket
			}) {
				t.Errorf("mounts %v lack the plan's socket", h.Mounts)
			}
			if want := []string{"/usr/local/bin/docker-backup", "agent", socketHelpers[kind], "--spec", dump.SpecFile}; !slices.Equal(h.Entrypoint, want) {
				t.Errorf("entrypoint %q, want %q", h.Entrypoint, want)
			}
			if !h.HoldStdin || !h.Init || h.Hostname != helperHostname("r1") || h.Labels[LabelKind] != kind {
				t.Errorf("held input %v, init %v, hostname %q, labels %v: want a run's helper that sees this process go", h.HoldStdin, h.Init, h.Hostname, h.Labels)
			}
			if !slices.ContainsFunc(h.Files, func(f engine.File) bool {
				return f.Path == dump.SpecFile && strings.Contains(string(f.Data), "dbsecret")
			}) {
				t.Errorf("files %v lack the spec", h.Files)
			}
			visible := strings.Join(append(append(append([]string{}, h.Entrypoint...), h.Cmd...), h.Env...), " ")
			for k, v := range h.Labels {
				visible += " " + k + "=" + v
			}
			for _, secret := range []string{"dbsecret", "pg_dumpall", "hunter2", "b2secret"} {
				if strings.Contains(visible, secret) {
					t.Errorf("%q is visible in the helper's argv, env or labels: %s", secret, visible)
				}
			}
		})
	}
}

func TestHelperSpecSocketDefault(t *testing.T) {
	c := &Runner{Image: "i", Project: "shop", Repo: Repo{URL: "/srv/backups", Local: true}}
	h := c.helperSpec(restic.Invocation{Args: []string{"dump"}, Kind: KindDumpRestore})
	if !slices.ContainsFunc(h.Mounts, func(m mount.Mount) bool { return m.Source == "/var/run/docker.sock" && m.Target == agent.EngineSocket }) {
		t.Errorf("mounts %v, want the default socket", h.Mounts)
	}
}
