package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/restic"
)

// Two restores of one volume in one run and one second never share a staging or
// rollback volume.
func TestRestoreVolumesNamesUnique(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	for range 2 {
		if err := Failed(restoreFiles(t, env, Options{})); err != nil {
			t.Fatal(err)
		}
	}
	var staging, rollback []string
	for _, c := range f.eng.CallsWith("volume-create ") {
		name := strings.TrimPrefix(c, "volume-create ")
		switch {
		case strings.Contains(name, "-staging-"):
			staging = append(staging, name)
		case strings.Contains(name, "-rollback-"):
			rollback = append(rollback, name)
		}
	}
	if len(staging) != 2 || staging[0] == staging[1] || len(rollback) != 2 || rollback[0] == rollback[1] {
		t.Errorf("staging %q, rollback %q: want two different each", staging, rollback)
	}
}

// The swap refuses a staging volume without the restore's marker (re-created empty by
// the engine after a prune): the live content is unchanged, nothing of ours is left.
func TestRestoreVolumesStagingReplaced(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	f.helperExit["restore-swap"] = agent.SwapNotStaged
	err := Failed(restoreFiles(t, env, Options{}))
	staging, rollback, _ := names(t, f, env.Run.ID)
	if err == nil || !strings.Contains(err.Error(), "staging volume ("+staging+") is not the one restored and verified") ||
		!strings.Contains(err.Error(), "every volume holds its previous content (p_data)") || strings.Contains(err.Error(), "helper says no") {
		t.Fatalf("error %v", err)
	}
	if got := f.eng.VolumeNames(); !slices.Equal(got, []string{"p_data"}) {
		t.Errorf("volumes left besides the live one: %v (staging %s, rollback %s)", got, staging, rollback)
	}
	if !slices.Contains(f.calls(), "start c1") {
		t.Errorf("service not started again: %q", f.calls())
	}
	// The marker the swap checks is the one preflight wrote: same nonce. The first
	// job's preflight runs in its restore's helper, before restic.
	restores := f.rst.Find("restore")
	if len(restores) != 1 || !slices.Equal(restores[0].Helper.Config.Entrypoint[1:], []string{agent.Command, agent.PreflightResticCommand}) {
		t.Fatalf("restore helpers %+v: want one, its preflight first", restores)
	}
	if _, ok := f.helpers["restore-preflight"]; ok {
		t.Error("a preflight helper of its own for the run's first job")
	}
	pre, sw := restores[0].Helper, f.helpers["restore-swap"]
	var spec agent.PreflightSpec
	if err := json.Unmarshal([]byte(pre.Files[agent.SpecFile]), &spec); err != nil {
		t.Fatalf("preflight spec %q: %v", pre.Files[agent.SpecFile], err)
	}
	var swapSpec agent.SwapSpec
	if err := json.Unmarshal([]byte(sw.Files[agent.SpecFile]), &swapSpec); err != nil {
		t.Fatalf("swap spec %q: %v", sw.Files[agent.SpecFile], err)
	}
	if n := spec.Nonce; n == "" || n != swapSpec.Nonce {
		t.Errorf("nonce of preflight %q, of swap %q", n, swapSpec.Nonce)
	}
	mounts := map[string]string{}
	for _, m := range pre.HostConfig.Mounts {
		mounts[m.Target] = fmt.Sprintf("%s %s %v", m.Type, m.Source, m.ReadOnly)
	}
	if mounts["/live/0"] != "volume p_data true" || mounts["/staging/0"] != "volume "+staging+" false" || mounts["/backup/files/data"] != "volume "+staging+" false" {
		t.Errorf("the restore helper's mounts %q: want the live volume read-only and the staging volume at the preflight's and restic's places", mounts)
	}
}

// A swap that could not be put back everywhere names each live volume's state and its
// rollback, leaves the service stopped and keeps the staging and records volumes for
// the next command's recovery.
func TestRestoreVolumesSwapPutBackFailedNamesVolume(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	f.helperExit["restore-swap"] = agent.SwapPutBackFailed
	f.helperOut["restore-swap"] = `{"mounts":["mixed"]}` + "\n"
	err := Failed(restoreFiles(t, env, Options{}))
	staging, rollback, _ := names(t, f, env.Run.ID)
	if err == nil || !strings.Contains(err.Error(), "p_data may be part old, part new (its previous content is in "+rollback+")") ||
		!strings.Contains(err.Error(), "the service stays stopped") {
		t.Fatalf("error %v", err)
	}
	if slices.Contains(f.calls(), "start c1") {
		t.Errorf("service started on a volume that is not whole: %q", f.calls())
	}
	for _, v := range []string{staging, rollback} {
		if _, ok := f.eng.Volume(v); !ok {
			t.Errorf("volume %s removed: recovery needs it", v)
		}
	}
}

// Preflight runs before anything is stopped; when it fails, the service keeps running
// and no staging or rollback volume is left. The run's first job checks in its
// restore's helper (agent preflight-restic, which exits with the preflight's codes);
// a later job has a preflight helper of its own, before the first job restores.
func TestRestoreVolumesPreflightFails(t *testing.T) {
	for name, tc := range map[string]struct {
		code, restoreCode int
		stderr            string
		out               string
		remove, second    bool
		want              string
	}{
		"file vs folder":                {restoreCode: agent.PreflightTarget, stderr: "the live mount is not a folder, the snapshot holds a folder\n", want: "do not match the snapshot: the live mount is not a folder"},
		"no space":                      {restoreCode: agent.PreflightSpace, stderr: "docker-backup agent preflight-restic: not enough free space: the restore needs about 1.0 MiB\n", want: "files: not enough free space: the restore needs about 1.0 MiB"},
		"no live volume":                {remove: true, want: "volume p_data does not exist"},
		"second job: file vs folder":    {second: true, code: agent.PreflightTarget, want: "do not match the snapshot"},
		"second job: no space":          {second: true, out: `{"live_device":10,"live_kib":500,"staging_device":10,"free_kib":100}` + "\n", want: "not enough free space"},
		"second job: no marker written": {second: true, code: agent.PreflightMarker, want: "checking before the restore: exit code 5"},
	} {
		t.Run(name, func(t *testing.T) {
			env, f := volumesEnv(t, goodSummary)
			f.helperExit["restore-preflight"] = tc.code
			f.helperOut["restore-preflight"] = tc.out
			if tc.restoreCode != 0 {
				f.rst.Reply("restore", enginetest.Reply{Code: tc.restoreCode, Stderr: tc.stderr})
			}
			if tc.remove {
				if _, err := f.eng.VolumeRemove(context.Background(), "p_data", client.VolumeRemoveOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			jobs, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.second {
				other := composeext.ServicePlan{Name: "other", Strategy: composeext.StrategyVolumes,
					Volumes: []composeext.Mount{{Key: "x", Type: "volume", Source: "p_x", Target: "/x", Path: "/backup/other/x"}}}
				f.eng.AddVolume("p_x", map[string]string{"com.docker.compose.project": "p"})
				jobs = append(jobs, Job{Service: other, Snapshot: restic.Snapshot{ID: "aaaa2222", ShortID: "aaaa2222", Paths: []string{"/backup/other/x"}}})
			}
			err = Failed(Run(context.Background(), env, jobs, Options{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			for _, c := range f.calls() {
				if c == "stop c1" || strings.Contains(c, "rollback") || tc.second && c == "restic restore" {
					t.Errorf("went on after preflight failed: %q", f.calls())
				}
			}
			for _, v := range f.eng.VolumeNames() {
				if strings.Contains(v, "-staging-") {
					t.Errorf("staging volume %s left", v)
				}
			}
		})
	}
}

// preflightLine is the preflight's line for one mount.
func preflightLine(liveDev, liveKiB, stagingDev, freeKiB uint64) string {
	return fmt.Sprintf(`{"live_device":%d,"live_kib":%d,"staging_device":%d,"free_kib":%d}`+"\n", liveDev, liveKiB, stagingDev, freeKiB)
}

func TestCheckSpace(t *testing.T) {
	snap := restic.Snapshot{}
	snap.Summary = &restic.SnapshotSummary{TotalBytesProcessed: 100 << 10, DirsUnmodified: 1}
	staged, known := stagedKiB(snap) // 104 KiB staged
	if staged != 104 || !known {
		t.Fatalf("stagedKiB %d %v, want 104 true", staged, known)
	}
	if _, known := stagedKiB(restic.Snapshot{}); known {
		t.Error("a snapshot without a summary: want the estimate unknown")
	}
	for name, tc := range map[string]struct {
		report string
		mounts int
		old    bool
		fail   bool
	}{
		"room":                     {report: preflightLine(5, 50, 5, 1000)},
		"staging and rollback":     {report: preflightLine(5, 50, 7, 150), fail: true},
		"live grows on same store": {report: preflightLine(5, 50, 5, 200), fail: true},
		"live elsewhere":           {report: preflightLine(5, 50, 7, 160)},
		"two mounts":               {report: preflightLine(5, 50, 7, 200) + preflightLine(5, 50, 7, 200), mounts: 2, fail: true},
		"no summary: live twice":   {report: preflightLine(5, 50, 7, 100), old: true},
		"no summary, no room":      {report: preflightLine(5, 50, 7, 99), old: true, fail: true},
		"no figures":               {report: "garbage\n"},
	} {
		t.Run(name, func(t *testing.T) {
			mounts := max(tc.mounts, 1)
			err := checkSpace(tc.report, mounts, staged, !tc.old)
			if (err != nil) != tc.fail {
				t.Errorf("err %v, want failure %v", err, tc.fail)
			}
		})
	}
}

// --no-rollback is refused for a service whose backups exclude paths: the restore
// replaces them too, and only the rollback volume keeps their content.
func TestRestoreNoRollbackRefusedWithExcludes(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	env.Plan.Services[0].Exclude = []string{"cache"}
	mark := len(f.calls())
	_, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, Options{NoRollback: true})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "excludes cache") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err %v", err)
	}
	if got := f.calls()[mark:]; len(got) != 0 {
		t.Errorf("calls after the refusal: %q", got)
	}
	if _, err := Prepare(context.Background(), env, []Target{{Service: "files", Snapshot: "latest"}}, Options{}); err != nil {
		t.Errorf("without --no-rollback: %v", err)
	}
}

// A bind-mounted file is staged in a volume mounted at its parent folder, shared by the
// service's files; the swap learns it is a file and its name.
func TestRestoreFileBind(t *testing.T) {
	env, f := volumesEnv(t, `{"message_type":"summary","total_files":5,"files_restored":7,"total_bytes":9,"bytes_restored":9}`)
	svc := &env.Plan.Services[0]
	svc.Volumes = append(svc.Volumes, composeext.Mount{Key: "/etc/app/conf.txt", Type: "bind", Source: "/srv/p/conf.txt",
		Target: "/etc/app/conf.txt", Path: "/backup/files/etc-app-conf.txt"})
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: strings.ReplaceAll(snapFiles, `"paths":["/backup/files/data"]`, `"paths":["/backup/files/data","/backup/files/etc-app-conf.txt"]`)})
	f.rst.On("ls", func(c enginetest.Call) enginetest.Reply {
		if c.Args[len(c.Args)-1] == "/backup/files/etc-app-conf.txt" {
			return enginetest.Reply{Stdout: `{"name":"etc-app-conf.txt","type":"file","path":"/backup/files/etc-app-conf.txt","size":4,"struct_type":"node"}` + "\n"}
		}
		return enginetest.Reply{Stdout: lsData}
	})
	if err := Failed(restoreFiles(t, env, Options{})); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(f.rst.Calls(), func(c enginetest.Call) bool { return c.Command() == "restore" })
	targets := map[string]string{}
	for _, m := range f.rst.Calls()[i].Helper.HostConfig.Mounts {
		targets[m.Target] = m.Source
	}
	data, files := targets["/backup/files/data"], targets["/backup/files"]
	if !strings.HasPrefix(data, "p_data-staging-") || !strings.HasPrefix(files, "p_files_files-staging-") {
		t.Errorf("restic's mounts %v: want the volume's staging at its path, the files' at /backup/files", targets)
	}
	sw := f.helpers["restore-swap"]
	var spec agent.SwapSpec
	if err := json.Unmarshal([]byte(sw.Files[agent.SpecFile]), &spec); err != nil || len(spec.Mounts) != 2 {
		t.Fatalf("swap spec %q: %v", sw.Files[agent.SpecFile], err)
	}
	// The volume and its staging and rollback volumes are moved by rename under the one
	// folder of volumes; the file is rewritten in place through its own bind mount, from
	// and to its staging and rollback volumes mounted on their own.
	dir, file := spec.Mounts[0], spec.Mounts[1]
	if dir.File || !strings.HasPrefix(dir.Live, "/volumes/p_data/") || !strings.HasPrefix(dir.Staging, "/volumes/p_data-staging-") || !strings.HasPrefix(dir.Rollback, "/volumes/p_data-rollback-") {
		t.Errorf("swap of the volume %+v", dir)
	}
	if !file.File || file.Base != "etc-app-conf.txt" || file.Live != "/live/1" || file.Staging != "/staging/1" || file.Rollback != "/rollback/1" {
		t.Errorf("swap of the file %+v", file)
	}
	mounts := map[string]string{}
	for _, m := range sw.HostConfig.Mounts {
		mounts[m.Target] = string(m.Type) + " " + m.Source
	}
	if mounts["/live/1"] != "bind /srv/p/conf.txt" || mounts["/volumes"] != "bind /var/lib/docker/volumes" || !strings.HasPrefix(mounts["/records"], "volume p_files_swap-") || len(mounts) != 5 {
		t.Errorf("the swap mounts %q", mounts)
	}
}

// --to restores folders: a service with a bind-mounted file is refused before any
// volume is made.
func TestRestoreToRefusesFileBind(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	env.Plan.Services[0].Volumes[0].Type, env.Plan.Services[0].Volumes[0].Source = "bind", "/srv/p/data"
	f.rst.Reply("ls", enginetest.Reply{Stdout: `{"name":"data","type":"file","path":"/backup/files/data","size":5,"struct_type":"node"}` + "\n"})
	err := Failed(restoreFiles(t, env, Options{To: "copy"}))
	if err == nil || !strings.Contains(err.Error(), "/data is a bind-mounted file") {
		t.Fatalf("err %v", err)
	}
	if got := f.eng.VolumeNames(); !slices.Equal(got, []string{"p_data"}) {
		t.Errorf("volumes %v", got)
	}
}

// Every volume restore's preflight runs before any service is stopped: a second
// service that cannot be restored stops the run before the first one changes.
func TestRestorePreflightsBeforeAnyStop(t *testing.T) {
	env, f := volumesEnv(t, goodSummary)
	other := composeext.ServicePlan{Name: "other", Strategy: composeext.StrategyVolumes,
		Volumes: []composeext.Mount{{Key: "x", Type: "volume", Source: "p_x", Target: "/x", Path: "/backup/other/x"}}}
	snap := restic.Snapshot{ID: "aaaa2222", ShortID: "aaaa2222"}
	results := Run(context.Background(), env, []Job{{Service: env.Plan.Services[0], Snapshot: snap}, {Service: other, Snapshot: snap}}, Options{})
	if len(results) != 1 || results[0].Service != "other" || results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "volume p_x does not exist") {
		t.Fatalf("results %+v", results)
	}
	for _, c := range f.calls() {
		if c == "stop c1" || c == "restic restore" {
			t.Errorf("files was restored though other could not be: %q", f.calls())
		}
	}
	if got := f.eng.VolumeNames(); !slices.Equal(got, []string{"p_data"}) {
		t.Errorf("volumes left besides the live one: %v", got)
	}
}

// A swap helper that dies mid-swap (killed: exit 137) is followed by a second one that
// takes the swap on from its journals: the restore succeeds when every volume ends new;
// otherwise the error says what each volume holds.
func TestRestoreVolumesSwapHelperKilled(t *testing.T) {
	for name, tc := range map[string]struct {
		again int
		want  string
	}{
		"finished": {again: 0},
		"put back": {again: agent.SwapPutBack, want: "what was replaced was put back: every volume holds its previous content (p_data)"},
		"unknown":  {again: 137, want: "p_data is in an unknown state"},
	} {
		t.Run(name, func(t *testing.T) {
			env, f := volumesEnv(t, goodSummary)
			f.helperExit["restore-swap#1"] = 137
			f.helperExit["restore-swap#2"] = tc.again
			err := Failed(restoreFiles(t, env, Options{}))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if got := strings.Join(f.helperArgs, "; "); !strings.Contains(got, "restore-swap swap; restore-swap swap") {
				t.Errorf("helpers %q: want the swap twice", got)
			}
			if started := slices.Contains(f.calls(), "start c1"); started != (tc.again != 137) {
				t.Errorf("service started %v: %q", started, f.calls())
			}
		})
	}
}
