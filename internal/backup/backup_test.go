package backup

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

func TestUpDumpStreamsIntoResticStdin(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	f.execs["pg_dumpall"] = fakeExec{stdout: "CREATE TABLE notes;\n"}
	results, r, _ := f.up(t, testPlan(dumpService("pg_dumpall")), Options{Parallel: 1})
	if results[0].Status != StatusOK || results[0].Summary.SnapshotID != "abcdef1234567890" {
		t.Fatalf("result %+v, want ok with the snapshot", results[0])
	}
	backups := f.rst.Find("backup")
	if len(backups) != 1 {
		t.Fatalf("restic ran %v, want one backup", f.rst.Commands())
	}
	b := backups[0]
	if b.Stdin != "CREATE TABLE notes;\n" || b.StdinErr != nil {
		t.Errorf("restic read %q (%v), want the dump", b.Stdin, b.StdinErr)
	}
	if strings.Contains(b.String(), "unconfirmed") {
		t.Errorf("restic %q: a dump is committed whole, never unconfirmed", b)
	}
	for _, want := range []string{"backup --json --host shop@m1", "--tag service=db", "--tag run=" + r.ID, "--stdin-from-command --stdin-filename db.sql -- docker-backup agent dump-relay "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("restic %q lacks %q", b, want)
		}
	}
	if got := f.eng.CallsWith("exec "); !slices.Equal(got, []string{"exec c1 sh -c pg_dumpall"}) {
		t.Errorf("execs %v, want the dump in the running container", got)
	}
	// The dump ran in the helper (the agent, through the engine's socket), its command
	// in a file of the helper: never in argv or environment.
	h := b.Helper
	if h.Labels()[helper.LabelKind] != helper.KindDump || !strings.Contains(h.Files[dump.SpecFile], `"cmd":["sh","-c","pg_dumpall"]`) {
		t.Errorf("helper %v with files %v: want a dump helper with the spec", h.Labels(), h.Files)
	}
	if visible := strings.Join(append(append(h.Config.Entrypoint, h.Config.Cmd...), h.Config.Env...), " "); strings.Contains(visible, "pg_dumpall") {
		t.Errorf("the dump command shows in the helper's argv or env: %s", visible)
	}
}

func TestUpDumpFailsClosed(t *testing.T) {
	for name, exec := range map[string]fakeExec{
		"non-zero exit": {stdout: "partial", stderr: "pg_dump: error: database \"nope\" does not exist\n", code: 1},
		"empty output":  {stderr: "", code: 0},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
			f.execs["dump"] = exec
			results, _, _ := f.up(t, testPlan(dumpService("dump")), Options{Parallel: 1})
			r := results[0]
			if r.Status != StatusFailed {
				t.Fatalf("status %s, want failed", r.Status)
			}
			// restic must see its input fail, never end: that is what keeps it from committing.
			backups := f.rst.Find("backup")
			if len(backups) != 1 || backups[0].StdinErr == nil {
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
		f := newFixture(t)
		f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "files", true))
		var recorded bool
		f.rst.On("backup", func(enginetest.Call) enginetest.Reply {
			// The stop record exists while the helper works: a run killed now leaves the
			// next one what to start again.
			for _, v := range f.eng.Volumes() {
				recorded = recorded || v.Labels[helper.LabelStopped] == "c1"
			}
			if fail {
				return enginetest.Reply{Stderr: "Fatal: boom\n", Code: 1}
			}
			return enginetest.Reply{Stdout: `{"message_type":"summary","snapshot_id":"1234"}`}
		})
		svc := composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes, Stop: true, Tags: []string{"service=files"},
			Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "shop_data", Target: "/data", Path: "/backup/files/data"}}}
		results, r, _ := f.up(t, testPlan(svc), Options{Parallel: 1})
		if got, want := results[0].Status == StatusFailed, fail; got != want {
			t.Errorf("fail=%v: status %s", fail, results[0].Status)
		}
		var calls []string
		for _, c := range f.eng.Calls() {
			if strings.HasSuffix(c, " c1") {
				calls = append(calls, c)
			}
		}
		if !slices.Equal(calls, []string{"stop c1", "start c1"}) {
			t.Errorf("fail=%v: engine calls %v, want stop then start", fail, calls)
		}
		if !recorded {
			t.Errorf("fail=%v: the stopped container was not recorded while the helper ran", fail)
		}
		if _, ok := f.eng.Volume("docker-backup-stopped-" + r.ID + "-c1"); ok {
			t.Errorf("fail=%v: the stop record stayed after the container started again", fail)
		}
		backup := f.rst.Find("backup")[0]
		var own []string
		for _, m := range backup.Helper.HostConfig.Mounts {
			if m.Target == "/backup/files/data" {
				own = append(own, string(m.Type)+" "+m.Source)
				if !m.ReadOnly {
					t.Errorf("fail=%v: %s is mounted read-write", fail, m.Source)
				}
			}
		}
		if !slices.Equal(own, []string{"volume shop_data"}) {
			t.Errorf("helper mounts %+v, want the volume read-only at its snapshot path", backup.Helper.HostConfig.Mounts)
		}
		if strings.Contains(backup.String(), "unconfirmed") || !strings.Contains(backup.String(), "--tag run="+r.ID) {
			t.Errorf("a volumes backup ran %q: want the run's tag and no unconfirmed tag", backup)
		}
	}
}

func TestUpSkipsNone(t *testing.T) {
	f := newFixture(t)
	results, _, _ := f.up(t, testPlan(composeext.ServicePlan{Name: "cache", Strategy: composeext.StrategyNone}), Options{})
	if results[0].Status != StatusSkipped {
		t.Errorf("status %s, want skipped", results[0].Status)
	}
	for _, c := range f.rst.Commands() {
		if strings.HasPrefix(c, "backup") {
			t.Errorf("a none service was backed up: %s", c)
		}
	}
}
