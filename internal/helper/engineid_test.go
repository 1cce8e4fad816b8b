package helper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/restic"
)

// socketFixture is the run fixture whose dump helpers run the agent's own code, on an
// engine with ID AAAA; other, when set as its socket, is another engine on that host.
func socketFixture(t *testing.T) (*fixture, *enginetest.Engine) {
	f := newFixture(t)
	f.eng.SystemInfo = system.Info{ID: "AAAA", DockerRootDir: "/var/lib/docker"}
	f.eng.Program = func(p *enginetest.Process) int {
		if enginetest.IsAgentDump(p) {
			return f.eng.Agent(f.rst, p)
		}
		return f.rst.Program(p)
	}
	other := enginetest.New(t)
	other.SystemInfo = system.Info{ID: "BBBB", DockerRootDir: "/home/me/.local/share/docker"}
	return f, other
}

func (f *fixture) socketRunner() *Runner {
	r := f.runner()
	r.Engine, r.DockerSocket, r.DockerSocketSetting = engine.Identity{ID: "AAAA", RootDir: "/var/lib/docker"}, "/var/run/docker.sock", "compose.yaml: x-backup.docker_socket"
	return r
}

// CheckSocket passes for the engine's own socket, with a helper that has the socket
// and the engine's ID as a file, and nothing else: no network, no repository, no secret.
func TestCheckSocketOfTheEngine(t *testing.T) {
	f, _ := socketFixture(t)
	if err := f.socketRunner().CheckSocket(context.Background()); err != nil {
		t.Fatal(err)
	}
	created := f.eng.Created()
	if len(created) != 1 {
		t.Fatalf("%d helpers, want one", len(created))
	}
	h := created[0]
	if h.HostConfig.NetworkMode != "none" || h.Labels()[LabelKind] != KindEngineCheck || !h.Removed {
		t.Errorf("network %q, labels %v, removed %v: want a removed helper of kind %s with no network", h.HostConfig.NetworkMode, h.Labels(), h.Removed, KindEngineCheck)
	}
	if len(h.HostConfig.Mounts) != 1 || h.HostConfig.Mounts[0].Source != "/var/run/docker.sock" || h.HostConfig.Mounts[0].Target != agent.EngineSocket {
		t.Errorf("mounts %+v, want the socket alone", h.HostConfig.Mounts)
	}
	if len(h.Files) != 1 || h.Files[agent.EngineIDFile] != `{"id":"AAAA","root_dir":"/var/lib/docker"}` {
		t.Errorf("files %v, want the engine's ID alone", h.Files)
	}
	if len(f.rst.Calls()) != 0 {
		t.Errorf("restic ran %v", f.rst.Commands())
	}
}

// The socket of another engine is one line naming the setting, a configuration error.
func TestCheckSocketOfAnotherEngine(t *testing.T) {
	f, other := socketFixture(t)
	f.eng.Socket = other
	r := f.socketRunner()
	r.DockerSocketNote = "the default"
	err := r.CheckSocket(context.Background())
	const want = "compose.yaml: x-backup.docker_socket: /var/run/docker.sock (the default) is the socket of another engine (ID BBBB) " +
		"than the one docker-backup talks to (ID AAAA): set it to the socket of this engine on its host"
	var se *SocketError
	if !errors.As(err, &se) || err.Error() != want || !errors.Is(err, composeext.ErrInvalid) {
		t.Fatalf("err %v, want a configuration error:\n%s", err, want)
	}
}

// Two rootful engines of one host share the ID up to Engine 20.10 (the host's key
// file): their data roots tell them apart, and the line names both.
func TestCheckSocketOfAnotherEngineWithTheSameID(t *testing.T) {
	f, other := socketFixture(t)
	other.SystemInfo = system.Info{ID: "AAAA", DockerRootDir: "/srv/second/data"}
	f.eng.Socket = other
	err := f.socketRunner().CheckSocket(context.Background())
	const want = "compose.yaml: x-backup.docker_socket: /var/run/docker.sock is the socket of another engine (ID AAAA, data root /srv/second/data) " +
		"than the one docker-backup talks to (ID AAAA, data root /var/lib/docker): set it to the socket of this engine on its host"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v, want:\n%s", err, want)
	}
}

// A socket the engine's host does not have, or one that answers as no engine.
func TestCheckSocketMissingOrMute(t *testing.T) {
	f, other := socketFixture(t)
	f.eng.HostPaths = map[string]bool{"/srv/backups": true}
	err := f.socketRunner().CheckSocket(context.Background())
	if want := "compose.yaml: x-backup.docker_socket: /var/run/docker.sock is not on the engine's host: set it to the socket of this engine on its host"; err == nil || err.Error() != want {
		t.Errorf("missing socket: err %v, want %q", err, want)
	}

	f.eng.HostPaths = nil
	f.eng.Socket = other
	other.Fail("info", errors.New("connection refused"))
	err = f.socketRunner().CheckSocket(context.Background())
	if !errors.Is(err, composeext.ErrInvalid) || !strings.Contains(err.Error(), "/var/run/docker.sock is not a socket of this engine (") ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "\n") {
		t.Errorf("mute socket: err %v", err)
	}
}

// A dump helper whose socket is another engine's fails before it execs anything or
// starts restic, with the same line; the other engine is only asked who it is.
func TestDumpHelperRefusesAnotherEngine(t *testing.T) {
	for _, kind := range []string{KindDump, KindDumpRestore} {
		t.Run(kind, func(t *testing.T) {
			f, other := socketFixture(t)
			f.eng.Socket = other
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
			other.AddContainer(enginetest.ServiceContainer("c1", "other", "db", true))
			spec := dump.Spec{Container: "c1", Cmd: []string{"pg_dumpall"}}
			err := f.socketRunner().Run(context.Background(), restic.Invocation{Args: []string{"backup", "--stdin"}, Kind: kind, Service: "db",
				Files: []restic.File{{Path: dump.SpecFile, Mode: 0o400, Data: spec.Marshal()}}})
			var se *SocketError
			if !errors.As(err, &se) || se.Got.ID != "BBBB" || se.Want.ID != "AAAA" {
				t.Fatalf("err %v, want the socket of another engine", err)
			}
			if len(f.rst.Calls()) != 0 {
				t.Errorf("restic ran %v", f.rst.Commands())
			}
			for _, e := range []*enginetest.Engine{f.eng, other} {
				if execs := e.CallsWith("exec"); len(execs) > 0 {
					t.Errorf("execs %v, want none", execs)
				}
			}
		})
	}
}

// A prebuilt helper image of an older version has no engine-check: nothing to check
// with, as before, rather than a failed command.
func TestCheckSocketWithAnOlderAgentImage(t *testing.T) {
	f, _ := socketFixture(t)
	f.eng.Program = func(p *enginetest.Process) int {
		fmt.Fprintf(p.Stderr, "docker-backup agent: unknown command %q\n", p.Config.Entrypoint[2])
		return agent.ExitUsage
	}
	if err := f.socketRunner().CheckSocket(context.Background()); err != nil {
		t.Errorf("err %v, want none", err)
	}
	f.eng.Program = func(p *enginetest.Process) int { return 1 }
	if err := f.socketRunner().CheckSocket(context.Background()); err == nil || errors.Is(err, composeext.ErrInvalid) {
		t.Errorf("err %v, want the check's failure, not a configuration error", err)
	}
}

// Without the engine's ID (a runner that was given none) there is nothing to check.
func TestNoEngineIDNoCheck(t *testing.T) {
	f, other := socketFixture(t)
	f.eng.Socket = other
	r := f.socketRunner()
	r.Engine = engine.Identity{}
	if err := r.CheckSocket(context.Background()); err != nil || len(f.eng.Created()) != 0 {
		t.Errorf("err %v, %d helpers: want no check", err, len(f.eng.Created()))
	}
	h := r.helperSpec(restic.Invocation{Args: []string{"dump"}, Kind: KindDumpRestore})
	if slices.ContainsFunc(h.Files, func(f engine.File) bool { return f.Path == agent.EngineIDFile }) {
		t.Errorf("files %v: no ID to send", h.Files)
	}
}

// Helpers get a network only when their repository needs one: a folder repository
// none (dump helpers included: the engine is a socket), a remote backend the engine's
// default; DOCKER_BACKUP_NETWORK wins. The run's host has the helpers' network.
func TestHelperNetwork(t *testing.T) {
	for _, tc := range []struct {
		name, network string
		repo          Repo
		want          string
	}{
		{"folder", "", Repo{URL: "/srv/backups", Local: true}, "none"},
		{"folder created", "", Repo{URL: "/srv/backups", Local: true, CreateFolder: true}, "none"},
		{"s3", "", Repo{URL: "s3:s3.amazonaws.com/bucket"}, ""},
		{"sftp", "", Repo{URL: "sftp:me@host:/srv/restic"}, ""},
		{"rest", "", Repo{URL: "rest:https://host:8000/"}, ""},
		{"folder, network given", "host", Repo{URL: "/srv/backups", Local: true}, "host"},
		{"s3, network given", "backup-net", Repo{URL: "s3:host/bucket"}, "backup-net"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Runner{Image: "i", Project: "shop", Repo: tc.repo, Network: tc.network}
			for _, kind := range []string{"backup", "snapshots", KindDump, KindDumpRestore} {
				if got := c.helperSpec(restic.Invocation{Args: []string{"x"}, Kind: kind}).NetworkMode; got != tc.want {
					t.Errorf("%s: network %q, want %q", kind, got, tc.want)
				}
			}
			wantHost := tc.want
			if wantHost == "" {
				wantHost = "default" // the engine's default network, said so to the held container
			}
			if host := c.HostSpec(engine.HeldSpec{}, nil); host.NetworkMode != wantHost {
				t.Errorf("host: network %q, want %q", host.NetworkMode, wantHost)
			}
		})
	}
}

// The dump helpers get the socket the runner names, and the engine's ID with it.
func TestDumpHelperGetsTheEngineID(t *testing.T) {
	c := &Runner{Image: "i", Project: "shop", Repo: Repo{URL: "/srv/backups", Local: true}, Engine: engine.Identity{ID: "AAAA", RootDir: "/var/lib/docker"},
		DockerSocket: "/run/user/1000/docker.sock"}
	for _, kind := range []string{KindDump, KindDumpRestore} {
		h := c.helperSpec(restic.Invocation{Args: []string{"x"}, Kind: kind})
		if !slices.ContainsFunc(h.Files, func(f engine.File) bool {
			return f.Path == agent.EngineIDFile && string(f.Data) == `{"id":"AAAA","root_dir":"/var/lib/docker"}`
		}) {
			t.Errorf("%s: files %v lack the engine's ID", kind, h.Files)
		}
		if !slices.ContainsFunc(h.Mounts, func(m mount.Mount) bool {
			return m.Source == "/run/user/1000/docker.sock" && m.Target == agent.EngineSocket
		}) {
			t.Errorf("%s: mounts %v", kind, h.Mounts)
		}
	}
	if h := c.helperSpec(restic.Invocation{Args: []string{"x"}, Kind: "backup"}); slices.ContainsFunc(h.Files, func(f engine.File) bool { return f.Path == agent.EngineIDFile }) {
		t.Errorf("a restic helper got the engine's ID")
	}
}
