package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

const snapFiles = `[{"id":"aaaa1111","short_id":"aaaa1111","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/backup/files/data"],"tags":["project=p","service=files","strategy=volumes","volume=data"]},
{"id":"aaaa2222","short_id":"aaaa2222","time":"2026-01-12T10:00:00Z","hostname":"p","paths":["/backup/files/data"],"tags":["project=p","service=files","strategy=volumes","volume=data"]}]`

// lsData is restic ls for /backup/files/data: 2 folders, 1 file of 5 bytes, 1 link.
const lsData = `{"message_type":"snapshot","struct_type":"snapshot","id":"aaaa2222"}
{"name":"data","type":"dir","path":"/backup/files/data","struct_type":"node"}
{"name":"a","type":"file","path":"/backup/files/data/a","size":5,"struct_type":"node"}
{"name":"d","type":"dir","path":"/backup/files/data/d","struct_type":"node"}
{"name":"l","type":"symlink","path":"/backup/files/data/l","struct_type":"node"}
`

func volumesEnv(restoreSummary string) (Env, *fakeEngine, *fakeRunner) {
	eng := newFakeEngine("c1")
	run := &fakeRunner{eng: eng, out: map[string]string{
		"snapshots": snapFiles, "ls": lsData,
		"restore": `{"message_type":"status","percent_done":1}` + "\n" + restoreSummary + "\n",
		"cat":     "{}",
	}, errs: map[string]error{}}
	fixed := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	return Env{API: eng, Runner: run, Plan: filesPlan(), Reporter: &nopReporter{}, Now: func() time.Time { return fixed }, Location: time.UTC}, eng, run
}

const goodSummary = `{"message_type":"summary","total_files":4,"files_restored":6,"total_bytes":5,"bytes_restored":5}`

func restoreFiles(t *testing.T, env Env, opts Options) ([]Result, error) {
	t.Helper()
	jobs, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), env, jobs, opts)
}

func TestRestoreVolumesSwapsAfterVerify(t *testing.T) {
	env, eng, run := volumesEnv(goodSummary)
	old := "p_data-rollback-20260101-000000"
	eng.volumes[old] = map[string]string{LabelRollback: "p_data", engine.LabelHelperProject: "p"}
	results, err := restoreFiles(t, env, Options{})
	if err != nil || Failed(results) != nil {
		t.Fatalf("err %v, results %+v", err, results)
	}
	staging, rollback := "p_data-staging-20260201-120000", "p_data-rollback-20260201-120000"
	want := []string{
		"restic unlock", "restic ls", "volume-create " + staging, "stop c1", "restic restore",
		"volume-create " + rollback, "helper restore-swap", "start c1", "volume-rm " + old, "volume-rm " + staging,
	}
	got := slices.DeleteFunc(slices.Clone(eng.calls), func(s string) bool { return s == "restic snapshots" })
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n got %q\nwant %q", got, want)
	}
	if r := results[0]; !slices.Equal(r.Rollbacks, []string{rollback}) || r.Snapshot != "aaaa2222" {
		t.Errorf("result %+v", r)
	}
	i := slices.IndexFunc(run.argv, func(a []string) bool { return a[0] == "restore" })
	if got := strings.Join(run.argv[i], " "); got != "restore aaaa2222 --target / --include /backup/files/data --verify --json" {
		t.Errorf("restore argv %q", got)
	}
	if got := run.labels[i][engine.LabelStopped]; got != "c1" {
		t.Errorf("restore helper stopped label = %q, want c1", got)
	}
	if _, ok := eng.volumes[rollback]; !ok {
		t.Errorf("rollback volume removed")
	}
}

func TestRestoreVolumesFailureBeforeSwapLeavesLiveAlone(t *testing.T) {
	for name, tc := range map[string]struct {
		summary string
		err     error
		want    string
	}{
		"verify count": {summary: `{"message_type":"summary","total_files":3,"files_restored":3,"total_bytes":5,"bytes_restored":5}`, want: "verification failed"},
		"verify bytes": {summary: `{"message_type":"summary","total_files":4,"files_restored":6,"total_bytes":4,"bytes_restored":4}`, want: "4 of 5 bytes"},
		"restic fails": {err: restic.ErrFailed, want: "restic failed"},
		"no summary":   {summary: "", want: "no summary"},
	} {
		t.Run(name, func(t *testing.T) {
			env, eng, run := volumesEnv(tc.summary)
			if tc.err != nil {
				run.errs["restore"] = tc.err
			}
			results, err := restoreFiles(t, env, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ferr := Failed(results)
			if ferr == nil || !strings.Contains(ferr.Error(), tc.want) {
				t.Fatalf("error %v, want %q", ferr, tc.want)
			}
			for _, c := range eng.calls {
				if strings.HasPrefix(c, "helper restore-swap") || strings.Contains(c, "rollback") {
					t.Errorf("swap attempted: %q", eng.calls)
				}
			}
			if !slices.Contains(eng.calls, "start c1") || !slices.Contains(eng.calls, "volume-rm p_data-staging-20260201-120000") {
				t.Errorf("service not started again or staging kept: %q", eng.calls)
			}
		})
	}
}

func TestRestoreVolumesSwapFailure(t *testing.T) {
	for code, wantKept := range map[int]bool{swapPutBack: false, swapPutBackFailed: true} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			env, eng, _ := volumesEnv(goodSummary)
			eng.helperExit["restore-swap"] = code
			results, _ := restoreFiles(t, env, Options{})
			err := Failed(results)
			if err == nil || !strings.Contains(err.Error(), "helper says no") {
				t.Fatalf("error %v", err)
			}
			_, kept := eng.volumes["p_data-rollback-20260201-120000"]
			if kept != wantKept {
				t.Errorf("rollback kept = %v, want %v", kept, wantKept)
			}
			if !slices.Contains(eng.calls, "start c1") {
				t.Errorf("service not started again: %q", eng.calls)
			}
		})
	}
}

func TestRestoreVolumesNoRollback(t *testing.T) {
	env, eng, _ := volumesEnv(goodSummary)
	results, _ := restoreFiles(t, env, Options{NoRollback: true})
	if err := Failed(results); err != nil || len(results[0].Rollbacks) != 0 {
		t.Fatalf("err %v, result %+v", err, results[0])
	}
	if len(eng.volumes) != 0 {
		t.Errorf("volumes left: %v", eng.volumes)
	}
}

func TestRestoreVolumesTo(t *testing.T) {
	env, eng, _ := volumesEnv(goodSummary)
	results, _ := restoreFiles(t, env, Options{To: "copy"})
	if err := Failed(results); err != nil {
		t.Fatal(err)
	}
	for _, c := range eng.calls {
		if strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "helper restore-swap") {
			t.Errorf("--to touched the service: %q", eng.calls)
		}
	}
	if _, ok := eng.volumes["copy"]; !ok || !slices.Equal(results[0].Volumes, []string{"copy"}) {
		t.Errorf("volume copy not created: %v %+v", eng.volumes, results[0])
	}

	env, eng, _ = volumesEnv(goodSummary)
	eng.volumes["copy"] = map[string]string{"x": "y"}
	eng.helperExit["restore-check"] = 1
	results, _ = restoreFiles(t, env, Options{To: "copy"})
	if err := Failed(results); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("want a not-empty error, got %v", err)
	}
}

func TestRestoreRefusesStrategyMismatch(t *testing.T) {
	env, _, run := volumesEnv(goodSummary)
	run.out["snapshots"] = strings.ReplaceAll(snapFiles, "strategy=volumes", "strategy=dump")
	_, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, Options{})
	if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "strategy dump") {
		t.Fatalf("err %v", err)
	}
}
