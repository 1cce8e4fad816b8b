package restore

import (
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

const snapDB = `[{"id":"bbbb1111","short_id":"bbbb1111","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/db.sql"],"tags":["project=p","service=db","strategy=dump"]}]`

func dumpEnv(t *testing.T) (Env, *fixture) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "p", "db", true))
	env := f.env(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: snapDB})
	f.rst.Reply("dump", enginetest.Reply{Stdout: "CREATE TABLE t;\n"})
	return env, f
}

func restoreDB(t *testing.T, env Env) error {
	t.Helper()
	jobs, err := Prepare(context.Background(), env, []Target{{Service: "db", Snapshot: "bbbb"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Failed(Run(context.Background(), env, jobs, Options{}))
}

func TestRestoreDumpStreamsIntoRestoreCommand(t *testing.T) {
	env, f := dumpEnv(t)
	if err := restoreDB(t, env); err != nil {
		t.Fatal(err)
	}
	if got := f.execStdin.String(); got != "CREATE TABLE t;\n" {
		t.Errorf("restore command read %q", got)
	}
	cmds := f.rst.Commands()
	if got := cmds[len(cmds)-1]; got != "dump bbbb1111 /db.sql" {
		t.Errorf("dump argv %q", got)
	}
	if got := f.eng.CallsWith("exec "); len(got) != 1 || got[0] != "exec c1 sh -c psql" {
		t.Errorf("execs %q, want the restore command in the running container", got)
	}
}

func TestRestoreDumpFailingCommand(t *testing.T) {
	env, f := dumpEnv(t)
	f.execExit, f.execErr = 3, "ERROR: relation t already exists\n"
	err := restoreDB(t, env)
	if err == nil || !strings.Contains(err.Error(), "exited with code 3") || !strings.Contains(err.Error(), "relation t already exists") {
		t.Fatalf("err %v", err)
	}
}

// A dump that cannot be read never starts the restore command.
func TestRestoreDumpUnreadable(t *testing.T) {
	env, f := dumpEnv(t)
	f.rst.Reply("dump", enginetest.Reply{Code: 1})
	if err := restoreDB(t, env); err == nil || !strings.Contains(err.Error(), "restic failed") {
		t.Fatalf("err %v", err)
	}
	if f.execStdin.Len() != 0 || len(f.eng.CallsWith("exec ")) != 0 {
		t.Errorf("restore command ran")
	}
}
