package restore

import (
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

const snapDB = `[{"id":"bbbb1111","short_id":"bbbb1111","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/db.sql"],"tags":["project=p","service=db","strategy=dump"]}]`

func dumpEnv() (Env, *fakeEngine, *fakeRunner) {
	eng := newFakeEngine("c1")
	for i := range eng.containers {
		eng.containers[i].Labels[engine.LabelService] = "db"
	}
	run := &fakeRunner{eng: eng, out: map[string]string{"snapshots": snapDB, "dump": "CREATE TABLE t;\n", "cat": "{}"}, errs: map[string]error{}}
	return Env{API: eng, Runner: run, Plan: filesPlan(), Reporter: &nopReporter{}}, eng, run
}

func restoreDB(t *testing.T, env Env) error {
	t.Helper()
	jobs, err := Prepare(context.Background(), env, []Target{{Service: "db", Snapshot: "bbbb"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), env, jobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Failed(results)
}

func TestRestoreDumpStreamsIntoRestoreCommand(t *testing.T) {
	env, eng, run := dumpEnv()
	if err := restoreDB(t, env); err != nil {
		t.Fatal(err)
	}
	if got := eng.execStdin.String(); got != "CREATE TABLE t;\n" {
		t.Errorf("restore command read %q", got)
	}
	if got := strings.Join(run.argv[len(run.argv)-1], " "); got != "dump bbbb1111 /db.sql" {
		t.Errorf("dump argv %q", got)
	}
}

func TestRestoreDumpFailingCommand(t *testing.T) {
	env, eng, _ := dumpEnv()
	eng.execExit, eng.execErr = 3, "ERROR: relation t already exists\n"
	err := restoreDB(t, env)
	if err == nil || !strings.Contains(err.Error(), "exited with code 3") || !strings.Contains(err.Error(), "relation t already exists") {
		t.Fatalf("err %v", err)
	}
}

// A dump that cannot be read never starts the restore command.
func TestRestoreDumpUnreadable(t *testing.T) {
	env, eng, run := dumpEnv()
	run.errs["dump"] = restic.ErrFailed
	if err := restoreDB(t, env); err == nil || !strings.Contains(err.Error(), "restic failed") {
		t.Fatalf("err %v", err)
	}
	if eng.execStdin.Len() != 0 {
		t.Errorf("restore command ran")
	}
}
