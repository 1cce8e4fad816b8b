package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// socketCompose is project shop: a dump service and a volumes service that stops, a
// folder repository on this machine. SOCKET is replaced by an x-backup line or nothing.
const socketCompose = `name: shop
x-backup:
  repository: REPO
  password_file: restic.pw
SOCKET
services:
  db:
    image: postgres
    x-backup:
      dump: pg_dumpall
      filename: db.sql
  files:
    image: example/app
    volumes: [data:/data]
    x-backup: {strategy: volumes, stop: true}
volumes:
  data: {}
`

// socketFixture is project shop on the fake engine (ID AAAA) reached at endpoint: dump
// helpers run the agent's own code, execs print a whole dump.
type socketFixture struct {
	dir      string
	eng      *enginetest.Engine
	rst      *enginetest.Restic
	out, err bytes.Buffer
	d        *deps
}

func newSocketFixture(t *testing.T, endpoint, socketLine string) *socketFixture {
	repo := t.TempDir()
	compose := strings.NewReplacer("REPO", repo, "SOCKET", socketLine).Replace(socketCompose)
	f := &socketFixture{dir: writeCompose(t, compose), eng: enginetest.New(t), rst: enginetest.NewRestic()}
	if err := os.WriteFile(filepath.Join(f.dir, "restic.pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.eng.SystemInfo = system.Info{ID: "AAAA", Name: "box", OSType: "linux", Architecture: "x86_64", OperatingSystem: "Ubuntu 24.04", DockerRootDir: "/var/lib/docker"}
	f.eng.Program = func(p *enginetest.Process) int {
		switch {
		case p.Config.Labels[helper.LabelKind] == helper.KindAnchor:
			return enginetest.Cat(p)
		case enginetest.IsAgentDump(p):
			return f.eng.Agent(f.rst, p)
		}
		return f.rst.Program(p)
	}
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		i := slices.Index(x.Cmd, agent.HeldResticCommand)
		switch {
		case i < 0:
			// The dump command, in the service's container.
			fmt.Fprint(x.Stdout, "-- PostgreSQL database cluster dump complete\n")
		case i+1 < len(x.Cmd) && x.Cmd[i+1] == "snapshots":
			fmt.Fprint(x.Stdout, "[]\n")
		case i+1 < len(x.Cmd) && x.Cmd[i+1] == "tag":
			fmt.Fprint(x.Stdout, `{"message_type":"changed","old_snapshot_id":"abcdef1234567890","new_snapshot_id":"c0ffeeabcdef1234"}`+"\n")
		}
		return 0
	}
	f.rst.Reply("backup", enginetest.Reply{Stdout: `{"message_type":"summary","files_new":1,"snapshot_id":"abcdef1234567890"}` + "\n"})
	f.eng.AddContainer(enginetest.ServiceContainer("c-db", "shop", "db", true))
	f.eng.AddContainer(enginetest.ServiceContainer("c-files", "shop", "files", true))
	f.d = &deps{
		streams: Streams{In: strings.NewReader(""), Out: &f.out, Err: &f.err},
		environ: []string{"DOCKER_BACKUP_AGENT_IMAGE=docker-backup:test"}, workdir: f.dir,
		dockerClient:   func() (dockerAPI, error) { return fakeDocker{Engine: f.eng}, nil },
		engineLocation: func() (app.Location, error) { return app.LocateEndpoint(endpoint), nil },
	}
	return f
}

// socketsOf returns the socket each helper of kind got, in order.
func (f *socketFixture) socketsOf(kind string) []string {
	var out []string
	for _, c := range f.eng.Created() {
		if c.Labels()[helper.LabelKind] != kind {
			continue
		}
		for _, m := range c.HostConfig.Mounts {
			if m.Type == mount.TypeBind && m.Target == agent.EngineSocket {
				out = append(out, m.Source)
			}
		}
	}
	return out
}

// With a local unix:// endpoint, the dump helpers get that very socket unless a setting
// names another; a remote endpoint keeps the default, and so does Docker Desktop.
func TestDumpHelpersGetTheEndpointsSocket(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, line, os string
		want                     string
	}{
		{"rootless endpoint", "unix:///run/user/1000/docker.sock", "", "", "/run/user/1000/docker.sock"},
		{"default endpoint", "unix:///var/run/docker.sock", "", "", "/var/run/docker.sock"},
		{"set in the file", "unix:///run/user/1000/docker.sock", "  docker_socket: /srv/engine.sock", "", "/srv/engine.sock"},
		{"remote endpoint", "tcp://prod:2375", "", "", "/var/run/docker.sock"},
		{"docker desktop", "unix:///home/me/.docker/desktop/docker.sock", "", "Docker Desktop", "/var/run/docker.sock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSocketFixture(t, tc.endpoint, tc.line)
			if tc.os != "" {
				f.eng.SystemInfo.OperatingSystem = tc.os
			}
			if err := runApp(context.Background(), []string{"backup", "up", "db", "--no-forget"}, f.d); err != nil {
				t.Fatalf("up: %v\n%s%s", err, f.out.String(), f.err.String())
			}
			check, dump := f.socketsOf(helper.KindEngineCheck), f.socketsOf(helper.KindDump)
			if len(check) != 1 || check[0] != tc.want || len(dump) != 1 || dump[0] != tc.want {
				t.Errorf("engine check on %q, dump on %q: want one of each on %s", check, dump, tc.want)
			}
			if got := f.rst.Find("backup"); len(got) != 1 {
				t.Errorf("restic backups %v, want the dump's", f.rst.Commands())
			}
		})
	}
}

// The socket of another engine stops up before anything is stopped, made or run (but
// the run's anchor, ended again), with one line naming the setting, exit code 2.
func TestUpRefusesTheSocketOfAnotherEngine(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, line, environ string
		want                          string
	}{
		{"set in the file", "unix:///run/user/1000/docker.sock", "  docker_socket: /var/run/docker.sock", "",
			"compose.yaml: x-backup.docker_socket: /var/run/docker.sock is the socket"},
		{"the default", "tcp://127.0.0.1:2375", "", "",
			"compose.yaml: x-backup.docker_socket: /var/run/docker.sock (the default) is the socket"},
		{"the endpoint's", "unix:///run/user/1000/docker.sock", "", "",
			"compose.yaml: x-backup.docker_socket: /run/user/1000/docker.sock (the endpoint's own socket) is the socket"},
		{"the environment", "unix:///run/user/1000/docker.sock", "", "DOCKER_BACKUP_DOCKER_SOCKET=/var/run/docker.sock",
			"DOCKER_BACKUP_DOCKER_SOCKET: /var/run/docker.sock is the socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSocketFixture(t, tc.endpoint, tc.line)
			if tc.environ != "" {
				f.d.environ = append(f.d.environ, tc.environ)
			}
			other := enginetest.New(t)
			other.SystemInfo = system.Info{ID: "BBBB", DockerRootDir: "/var/lib/docker"}
			f.eng.Socket = other
			err := runApp(context.Background(), []string{"backup", "up"}, f.d)
			want := tc.want + " of another engine (ID BBBB) than the one docker-backup talks to (ID AAAA): set it to the socket of this engine on its host"
			if code := exitCode(context.Background(), err); code != ExitUsage || err.Error() != want {
				t.Fatalf("exit %d, err:\n%v\nwant exit 2 and:\n%s", code, err, want)
			}
			if c, _ := f.eng.Container("c-files"); !c.Running() {
				t.Errorf("the stop: true service was stopped")
			}
			if stops := f.eng.CallsWith("stop", "kill"); len(stops) > 0 {
				t.Errorf("calls %v, want nothing stopped", stops)
			}
			// The run begins while the socket is checked (its anchor, which stops
			// nothing), and ends when the check fails.
			for _, c := range f.eng.Created() {
				switch k := c.Labels()[helper.LabelKind]; {
				case k != helper.KindEngineCheck && k != helper.KindAnchor:
					t.Errorf("a helper of kind %q was made (%s), want the engine check and the run's anchor alone", k, c.Name)
				case !c.Removed:
					t.Errorf("%s (%s) left after up", c.Name, k)
				}
			}
			if len(f.rst.Calls()) != 0 {
				t.Errorf("restic ran %v", f.rst.Commands())
			}
		})
	}
}

// Commands that give no helper the socket do not check it: up of a volumes service.
func TestUpWithoutDumpsDoesNotCheckTheSocket(t *testing.T) {
	f := newSocketFixture(t, "unix:///run/user/1000/docker.sock", "  docker_socket: /nowhere.sock")
	f.eng.Socket = enginetest.New(t)
	_ = runApp(context.Background(), []string{"backup", "up", "files", "--no-forget"}, f.d)
	if got := f.socketsOf(helper.KindEngineCheck); len(got) > 0 {
		t.Errorf("engine checks on %q, want none", got)
	}
}
