package backup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

func testPlan(services ...composeext.ServicePlan) *composeext.Plan {
	return &composeext.Plan{Project: "shop", Repository: composeext.Repository{URL: "/srv/backups", Display: "/srv/backups", Local: true}, Services: services}
}

func dumpService(cmd string) composeext.ServicePlan {
	return composeext.ServicePlan{Name: "db", Strategy: composeext.StrategyDump, Tags: []string{"service=db"},
		Dump: &composeext.DumpSpec{Command: []string{"sh", "-c", cmd}, Filename: "db.sql"}}
}

func TestUpDumpStreamsIntoResticStdin(t *testing.T) {
	api := &fakeEngine{
		containers: []container.Summary{serviceContainer("c1", "shop", "db", true)},
		execs:      map[string]fakeExec{"pg_dumpall": {stdout: "CREATE TABLE notes;\n", code: 0}},
	}
	runner := &fakeRunner{}
	results, err := Up(context.Background(), Env{API: api, Runner: runner, Plan: testPlan(dumpService("pg_dumpall")), Reporter: nopReporter{}}, Options{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Status != StatusOK || results[0].Summary.SnapshotID != "abcdef1234567890" {
		t.Fatalf("result %+v, want ok with the snapshot", results[0])
	}
	if runner.stdin != "CREATE TABLE notes;\n" || runner.stdinErr != nil {
		t.Errorf("restic read %q (%v), want the dump", runner.stdin, runner.stdinErr)
	}
	backupCmd := runner.commands()[len(runner.commands())-1]
	for _, want := range []string{"backup --json --host shop", "--tag service=db", "--stdin --stdin-filename db.sql"} {
		if !strings.Contains(backupCmd, want) {
			t.Errorf("restic %q lacks %q", backupCmd, want)
		}
	}
}

func TestUpDumpFailsClosed(t *testing.T) {
	for name, exec := range map[string]fakeExec{
		"non-zero exit": {stdout: "partial", stderr: "pg_dump: error: database \"nope\" does not exist\n", code: 1},
		"empty output":  {stderr: "", code: 0},
	} {
		t.Run(name, func(t *testing.T) {
			api := &fakeEngine{
				containers: []container.Summary{serviceContainer("c1", "shop", "db", true)},
				execs:      map[string]fakeExec{"dump": exec},
			}
			runner := &fakeRunner{}
			results, err := Up(context.Background(), Env{API: api, Runner: runner, Plan: testPlan(dumpService("dump")), Reporter: nopReporter{}}, Options{Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := results[0]
			if r.Status != StatusFailed {
				t.Fatalf("status %s, want failed", r.Status)
			}
			// restic must see its input fail, never end: that is what keeps it from committing.
			if runner.stdinErr == nil {
				t.Errorf("restic's input ended cleanly after a failed dump: a snapshot would be committed")
			}
			if exec.stderr != "" && !strings.Contains(r.Err.Error(), "does not exist") {
				t.Errorf("error %q lacks the dump's stderr", r.Err)
			}
		})
	}
}

func TestUpVolumesStopStartsAgainOnFailure(t *testing.T) {
	for _, fail := range []bool{false, true} {
		api := &fakeEngine{containers: []container.Summary{serviceContainer("c1", "shop", "files", true)}}
		runner := &fakeRunner{answer: func(args []string) (string, error) {
			if args[0] == "backup" && fail {
				return "", &restic.ExitError{Code: 1, Message: "boom"}
			}
			return `{"message_type":"summary","snapshot_id":"1234"}`, nil
		}}
		svc := composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes, Stop: true,
			Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_data", Target: "/data", Path: "/backup/files/data"}}}
		results, err := Up(context.Background(), Env{API: api, Runner: runner, Plan: testPlan(svc), Reporter: nopReporter{}}, Options{Parallel: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := results[0].Status == StatusFailed, fail; got != want {
			t.Errorf("fail=%v: status %s", fail, results[0].Status)
		}
		if !slices.Equal(api.calls, []string{"stop c1", "start c1"}) {
			t.Errorf("fail=%v: engine calls %v, want stop then start", fail, api.calls)
		}
		var backupInv restic.Invocation
		for _, inv := range runner.invs {
			if inv.Args[0] == "backup" {
				backupInv = inv
			}
		}
		if backupInv.Labels[engine.LabelStopped] != "c1" {
			t.Errorf("the helper does not record the stopped container: labels %v", backupInv.Labels)
		}
		if len(backupInv.Mounts) != 1 || !backupInv.Mounts[0].ReadOnly || backupInv.Mounts[0].Target != "/backup/files/data" {
			t.Errorf("helper mounts %+v, want the volume read-only at its snapshot path", backupInv.Mounts)
		}
	}
}

func TestUpSkipsNone(t *testing.T) {
	runner := &fakeRunner{}
	results, err := Up(context.Background(), Env{API: &fakeEngine{}, Runner: runner,
		Plan: testPlan(composeext.ServicePlan{Name: "cache", Strategy: composeext.StrategyNone}), Reporter: nopReporter{}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Status != StatusSkipped {
		t.Errorf("status %s, want skipped", results[0].Status)
	}
	for _, c := range runner.commands() {
		if strings.HasPrefix(c, "backup") {
			t.Errorf("a none service was backed up: %s", c)
		}
	}
}

func TestOpenRepository(t *testing.T) {
	notFound := func(args []string) (string, error) {
		if args[0] == "cat" || args[0] == "unlock" {
			return "", &restic.ExitError{Code: 10}
		}
		return "", nil
	}
	t.Run("a missing remote repository is refused", func(t *testing.T) {
		plan := &composeext.Plan{Project: "p", Repository: composeext.Repository{URL: "s3:host/bucket", Display: "s3:host/bucket"}}
		runner := &fakeRunner{answer: notFound}
		err := OpenRepository(context.Background(), &fakeEngine{}, runner, plan)
		var missing *ErrNoRepository
		if !errors.As(err, &missing) || !strings.Contains(err.Error(), "docker backup init") {
			t.Fatalf("error %v, want ErrNoRepository pointing at init", err)
		}
		if slices.Contains(runner.commands(), "init") {
			t.Error("a remote repository was created by up")
		}
	})
	t.Run("a missing local repository is created", func(t *testing.T) {
		runner := &fakeRunner{answer: notFound}
		if err := OpenRepository(context.Background(), &fakeEngine{}, runner, testPlan()); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(runner.commands(), "init") {
			t.Errorf("commands %v, want init", runner.commands())
		}
	})
	t.Run("stale locks are removed when no helper runs", func(t *testing.T) {
		runner := &fakeRunner{answer: func([]string) (string, error) { return "", nil }}
		if err := OpenRepository(context.Background(), &fakeEngine{}, runner, testPlan()); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(runner.commands(), "unlock --remove-all") {
			t.Errorf("commands %v, want unlock --remove-all", runner.commands())
		}
	})
	t.Run("one helper opens the repository and clears stale locks", func(t *testing.T) {
		runner := &fakeRunner{answer: func([]string) (string, error) { return "", nil }}
		if err := OpenRepository(context.Background(), &fakeEngine{}, runner, testPlan()); err != nil {
			t.Fatal(err)
		}
		if got := runner.commands(); len(got) != 1 {
			t.Errorf("commands %v, want one", got)
		}
	})
	t.Run("locks stay while a helper of the repository runs", func(t *testing.T) {
		helper := serviceContainer("h1", "p", "x", true)
		helper.Labels = map[string]string{engine.LabelRepository: restic.Repo{URL: "/srv/backups"}.ID()}
		runner := &fakeRunner{answer: func([]string) (string, error) { return "", nil }}
		if err := OpenRepository(context.Background(), &fakeEngine{containers: []container.Summary{helper}}, runner, testPlan()); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(runner.commands(), "unlock --remove-all") {
			t.Error("locks were removed while a helper of the repository runs")
		}
	})
}
