package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
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

// volumesEnv is a restore of service files, whose container c1 runs, where restic
// restore reports restoreSummary.
func volumesEnv(t *testing.T, restoreSummary string) (Env, *fixture) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "p", "files", true))
	env := f.env(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: snapFiles})
	f.rst.Reply("ls", enginetest.Reply{Stdout: lsData})
	f.rst.Reply("restore", enginetest.Reply{Stdout: `{"message_type":"status","percent_done":1}` + "\n" + restoreSummary + "\n"})
	env.Now, env.Location = func() time.Time { return fixed }, time.UTC
	f.eng.AddVolume("p_data", map[string]string{"com.docker.compose.project": "p"})
	return env, f
}

const goodSummary = `{"message_type":"summary","total_files":4,"files_restored":6,"total_bytes":5,"bytes_restored":5}`

func restoreFiles(t *testing.T, env Env, opts Options) []report.Result {
	t.Helper()
	jobs, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), env, jobs, opts)
}

// names are the volumes the restore of files in run id made: their stamp ends with part
// of the restore's nonce.
func names(t *testing.T, f *fixture, id string) (staging, rollback, record string) {
	t.Helper()
	prefix := "volume-create p_data-staging-20260201-120000-" + id + "-"
	for _, c := range f.eng.Calls() {
		if strings.HasPrefix(c, prefix) && len(c) == len(prefix)+4 {
			staging = strings.TrimPrefix(c, "volume-create ")
		}
	}
	if staging == "" {
		t.Fatalf("no staging volume %s…: %q", prefix, f.calls())
	}
	return staging, strings.Replace(staging, "-staging-", "-rollback-", 1), "docker-backup-stopped-" + id + "-c1"
}

func TestRestoreVolumesSwapsAfterVerify(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	old := "p_data-rollback-20260101-000000-old0000001"
	f.eng.AddVolume(old, map[string]string{LabelRollback: "p_data", helper.LabelProject: "p", helper.LabelRun: "old0000001"})
	var stoppedDuringRestore bool
	f.rst.On("restore", func(enginetest.Call) enginetest.Reply {
		stoppedDuringRestore = slices.Contains(f.calls(), "stop c1")
		return enginetest.Reply{Stdout: goodSummary}
	})
	mark := len(f.calls())
	results := restoreFiles(t, env, Options{})
	if err := Failed(results); err != nil {
		t.Fatalf("err %v, results %+v", err, results)
	}
	staging, rollback, record := names(t, f, env.Run.ID)
	want := []string{
		"volume-create " + staging, "restic restore", "volume-create " + record, "stop c1",
		"volume-create " + rollback, "volume-create " + strings.Replace(staging, "p_data-staging-", "p_files_swap-", 1), "helper restore-swap", "start c1", "volume-remove " + record,
		"volume-remove " + old, "volume-remove " + staging, "volume-remove " + strings.Replace(staging, "p_data-staging-", "p_files_swap-", 1),
	}
	got := slices.DeleteFunc(slices.Clone(f.calls()[mark:]), func(s string) bool { return s == "restic snapshots" })
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n got %q\nwant %q", got, want)
	}
	if r := results[0]; !slices.Equal(r.Rollbacks, []string{rollback}) || r.Snapshot != "aaaa2222" {
		t.Errorf("result %+v", r)
	}
	i := slices.IndexFunc(f.rst.Calls(), func(c enginetest.Call) bool { return c.Command() == "restore" })
	if got := f.rst.Calls()[i].String(); got != "restore aaaa2222 --target / --include /backup/files/data --sparse --verify --json" {
		t.Errorf("restore argv %q", got)
	}
	if stoppedDuringRestore {
		t.Error("c1 was stopped while restic restored into staging: it must run until the swap")
	}
	v, ok := f.eng.Volume(rollback)
	if !ok {
		t.Fatalf("rollback volume removed")
	}
	if v.Labels[LabelRollback] != "p_data" || v.Labels[helper.LabelRun] != env.Run.ID || v.Labels[helper.LabelTemporary] != "" {
		t.Errorf("rollback volume labels %v: want the live volume and the run, never temporary", v.Labels)
	}
}

// The staging volume is temporary: recovery removes it when the run dies.
func TestRestoreVolumesStagingIsTemporary(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	var labels map[string]string
	f.rst.On("restore", func(enginetest.Call) enginetest.Reply {
		staging, _, _ := names(t, f, env.Run.ID)
		v, _ := f.eng.Volume(staging)
		labels = v.Labels
		return enginetest.Reply{Stdout: goodSummary}
	})
	if err := Failed(restoreFiles(t, env, Options{})); err != nil {
		t.Fatal(err)
	}
	if labels[helper.LabelTemporary] != "true" || labels[helper.LabelRun] != env.Run.ID || labels[LabelStaging] != "p/files/data" {
		t.Errorf("staging volume labels %v", labels)
	}
}

func TestRestoreVolumesFailureBeforeSwapLeavesLiveAlone(t *testing.T) {
	for name, tc := range map[string]struct {
		summary string
		fail    bool
		want    string
	}{
		"verify count": {summary: `{"message_type":"summary","total_files":4,"files_restored":3,"total_bytes":5,"bytes_restored":5}`, want: "verification failed: restore incomplete: restic restored 3 of 4 files"},
		"verify bytes": {summary: `{"message_type":"summary","total_files":4,"files_restored":6,"total_bytes":5,"bytes_restored":4}`, want: "4 of 5 bytes"},
		"nothing":      {summary: `{"message_type":"summary","total_files":0,"files_restored":0,"total_bytes":0,"bytes_restored":0}`, want: "verification failed"},
		"restic fails": {fail: true, want: "restic failed"},
		"no summary":   {summary: "", want: "no summary"},
	} {
		t.Run(name, func(t *testing.T) {
			env, f := volumesEnv(t, tc.summary)
			if tc.fail {
				f.rst.Reply("restore", enginetest.Reply{Code: 1})
			}
			results := restoreFiles(t, env, Options{})
			ferr := Failed(results)
			if ferr == nil || !strings.Contains(ferr.Error(), tc.want) {
				t.Fatalf("error %v, want %q", ferr, tc.want)
			}
			calls := f.calls()
			for _, c := range calls {
				if strings.HasPrefix(c, "helper restore-swap") || strings.Contains(c, "rollback") {
					t.Errorf("swap attempted: %q", calls)
				}
			}
			staging, _, _ := names(t, f, env.Run.ID)
			if slices.Contains(calls, "stop c1") || !slices.Contains(calls, "volume-remove "+staging) {
				t.Errorf("service stopped for a restore that failed before the swap, or staging kept: %q", calls)
			}
		})
	}
}

func TestRestoreVolumesSwapFailure(t *testing.T) {
	for code, want := range map[int]string{agent.SwapPutBack: "what was replaced was put back", agent.SwapUnchanged: "nothing was replaced"} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			env, f := volumesEnv(t, goodSummary)
			f.helperExit["restore-swap"] = code
			results := restoreFiles(t, env, Options{})
			err := Failed(results)
			if err == nil || !strings.Contains(err.Error(), "helper says no") || !strings.Contains(err.Error(), want+": every volume holds its previous content (p_data)") {
				t.Fatalf("error %v", err)
			}
			_, rollback, _ := names(t, f, env.Run.ID)
			if _, kept := f.eng.Volume(rollback); kept {
				t.Errorf("rollback kept though every volume holds its previous content")
			}
			if !slices.Contains(f.calls(), "start c1") {
				t.Errorf("service not started again: %q", f.calls())
			}
			for _, v := range f.eng.VolumeNames() {
				if strings.Contains(v, "_swap-") || strings.Contains(v, "-staging-") {
					t.Errorf("volume %s left", v)
				}
			}
		})
	}
}

func TestRestoreVolumesNoRollback(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	results := restoreFiles(t, env, Options{NoRollback: true})
	if err := Failed(results); err != nil || len(results[0].Rollbacks) != 0 {
		t.Fatalf("err %v, result %+v", err, results[0])
	}
	if got := f.eng.VolumeNames(); !slices.Equal(got, []string{"p_data"}) {
		t.Errorf("volumes left besides the live one: %v", got)
	}
}

func TestRestoreVolumesTo(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	results := restoreFiles(t, env, Options{To: "copy"})
	if err := Failed(results); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.calls() {
		if strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "helper restore-swap") {
			t.Errorf("--to touched the service: %q", f.calls())
		}
	}
	if _, ok := f.eng.Volume("copy"); !ok || !slices.Equal(results[0].Volumes, []string{"copy"}) {
		t.Errorf("volume copy not created: %v %+v", f.eng.VolumeNames(), results[0])
	}

	env, f = volumesEnv(t, goodSummary)
	f.eng.AddVolume("copy", map[string]string{"x": "y"})
	f.helperExit["restore-check"] = 1
	results = restoreFiles(t, env, Options{To: "copy"})
	if err := Failed(results); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("want a not-empty error, got %v", err)
	}
	if _, ok := f.eng.Volume("copy"); !ok {
		t.Error("the user's volume was removed")
	}
}

func TestRestoreRefusesStrategyMismatch(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: strings.ReplaceAll(snapFiles, "strategy=volumes", "strategy=dump")})
	_, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, Options{})
	if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "strategy dump") {
		t.Fatalf("err %v", err)
	}
}
