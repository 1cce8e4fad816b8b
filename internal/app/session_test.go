package app

import (
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// dumpCompose is project shop with a dump service db that has a pre hook.
const dumpCompose = `name: shop
x-backup:
  repository: REPO
  password_file: restic.pw
services:
  db:
    image: example/db
    x-backup: {dump: pg_dumpall -U postgres, pre: 'echo pre-hook'}
`

// dumpFixture is the fixture of dumpCompose, its dump helpers played by the agent's
// own code; execs records the commands run in db's container.
func dumpFixture(t *testing.T) (*fixture, func() []string) {
	f := composeFixture(t, dumpCompose)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.eng.HostPaths["/var/run/docker.sock"] = true
	newAnchorRestic(f)
	f.rst.Reply("backup", enginetest.Reply{Stdout: `{"message_type":"summary","files_new":1,"total_bytes_processed":20,"snapshot_id":"abcdef1234567890"}` + "\n"})
	anchorExec := f.eng.Exec
	var mu sync.Mutex
	var execs []string
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		if x.ContainerID != "c1" {
			return anchorExec(x)
		}
		mu.Lock()
		execs = append(execs, strings.Join(x.Cmd, " "))
		mu.Unlock()
		if strings.Contains(strings.Join(x.Cmd, " "), "pg_dumpall") {
			_, _ = io.WriteString(x.Stdout, "CREATE TABLE notes;\n")
		}
		return 0
	}
	f.eng.Program = func(p *enginetest.Process) int {
		switch {
		case p.Config.Labels[helper.LabelKind] == helper.KindAnchor:
			return enginetest.Cat(p)
		case enginetest.IsAgentDump(p):
			return f.eng.Agent(f.rst, p)
		}
		return f.rst.Program(p)
	}
	return f, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(execs) }
}

// The dump helpers' socket is checked while the run begins: a socket of another engine
// fails up with its one line (a configuration error) before any hook or dump runs in
// the service's container, and the run that began meanwhile is ended (its anchor gone).
func TestUpChecksTheSocketWhileTheRunBegins(t *testing.T) {
	f, execs := dumpFixture(t)
	other := enginetest.New(t)
	other.SystemInfo = system.Info{ID: "other-engine", Name: "prod"}
	f.eng.Socket = other
	err := f.run("up")
	var se *helper.SocketError
	if !errors.As(err, &se) || !errors.Is(err, composeext.ErrInvalid) {
		t.Fatalf("up: %v, want the socket's configuration error", err)
	}
	if ran := execs(); len(ran) != 0 {
		t.Errorf("ran in db's container: %q", ran)
	}
	var kinds []string
	for _, c := range f.eng.Created() {
		kinds = append(kinds, c.Labels()[helper.LabelKind])
		if !c.Removed {
			t.Errorf("%s (%s) left after up", c.Name, c.Labels()[helper.LabelKind])
		}
	}
	if !slices.Contains(kinds, helper.KindEngineCheck) || slices.Contains(kinds, helper.KindDump) {
		t.Errorf("containers of kinds %q, want an engine check and no dump helper", kinds)
	}
}

// With the engine's own socket the check passes and the dump runs after it.
func TestUpChecksTheSocketThenDumps(t *testing.T) {
	f, execs := dumpFixture(t)
	if err := f.run("up"); err != nil {
		t.Fatalf("up: %v\n%s", err, f.err.String())
	}
	var kinds []string
	for _, c := range f.eng.Created() {
		kinds = append(kinds, c.Labels()[helper.LabelKind])
	}
	check, dump := slices.Index(kinds, helper.KindEngineCheck), slices.Index(kinds, helper.KindDump)
	if check < 0 || dump < check {
		t.Errorf("containers of kinds %q, want the engine check before the dump helper", kinds)
	}
	if !slices.ContainsFunc(execs(), func(c string) bool { return strings.Contains(c, "pre-hook") }) {
		t.Errorf("ran in db's container %q, want the pre hook", execs())
	}
}
