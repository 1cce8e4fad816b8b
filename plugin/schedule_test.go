package plugin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/system"
	"go.yaml.in/yaml/v4"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/schedule"
	"github.com/docker-backup/docker-backup/restic"
)

const scheduleCompose = `
x-backup:
  schedule: "*/5 * * * *"
  check: {schedule: "@weekly", read_data_subset: 5%}
services:
  db:
    image: postgres:${PG_TAG:-15}
    environment: {POSTGRES_PASSWORD: "${PG_PASSWORD:-x}"}
    x-backup: {dump: pg_dumpall}
  files:
    image: busybox
    volumes: [./files:/files]
    x-backup: {volumes: /files, stop: true}
`

const selfID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// scheduleFixture is a project folder and a fake engine on which a scheduler
// container of project "shop" runs, whose mountinfo is that of the engine's containers.
type scheduleFixture struct {
	dir      string
	eng      *enginetest.Engine
	out, err bytes.Buffer
	d        *deps
}

func newScheduleFixture(t *testing.T, environ ...string) *scheduleFixture {
	f := &scheduleFixture{dir: writeCompose(t, scheduleCompose), eng: enginetest.New(t)}
	f.eng.SystemInfo = system.Info{ID: "engine-id", Name: "prod"}
	f.d = &deps{
		streams:      Streams{In: strings.NewReader(""), Out: &f.out, Err: &f.err},
		environ:      append(environ, "DOCKER_BACKUP_AGENT_IMAGE=docker-backup:test"),
		workdir:      t.TempDir(),
		dockerClient: func() (dockerAPI, error) { return fakeDocker{Engine: f.eng}, nil },
		mountinfo: func() string {
			return "1291 1271 259:1 /srv/docker/containers/" + selfID + "/hostname /etc/hostname rw - ext4 /dev/x rw\n"
		},
	}
	return f
}

// --print writes a compose file holding the scheduler: our image, the schedule
// command, the socket, the project folder at its own path, settings carried over.
func TestSchedulePrint(t *testing.T) {
	f := newScheduleFixture(t, "DOCKER_BACKUP_HOST=prod-1", "RESTIC_PASSWORD=s3cret", "PG_TAG=16", "PG_PASSWORD=pg-s3cret")
	if err := runApp(context.Background(), []string{"--project-directory", f.dir, "-p", "shop", "schedule", "--print"}, f.d); err != nil {
		t.Fatalf("%v\n%s", err, f.err.String())
	}
	var file struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []map[string]any  `yaml:"volumes"`
			Labels      map[string]string `yaml:"labels"`
			XBackup     string            `yaml:"x-backup"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(f.out.Bytes(), &file); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	svc, ok := file.Services["docker-backup"]
	if !ok {
		t.Fatalf("no docker-backup service in\n%s", f.out.String())
	}
	if svc.Image != "docker-backup:test" || strings.Join(svc.Command, " ") != "schedule" || svc.XBackup != "none" || svc.Labels[app.SchedulerLabel] != "true" {
		t.Errorf("service = %+v", svc)
	}
	if svc.Environment["DOCKER_BACKUP_HOST"] != "prod-1" || svc.Environment["DOCKER_BACKUP_AGENT_IMAGE"] != "docker-backup:test" {
		t.Errorf("environment = %v", svc.Environment)
	}
	if svc.Environment["PG_TAG"] != "16" {
		t.Errorf("PG_TAG, interpolated by the compose file, is not carried: %v", svc.Environment)
	}
	if strings.Contains(f.out.String(), "s3cret") || !strings.Contains(f.err.String(), "RESTIC_PASSWORD is not written") || !strings.Contains(f.err.String(), "use PG_PASSWORD") {
		t.Errorf("the password is in the file, or no warning: %s", f.err.String())
	}
	var sources []string
	for _, v := range svc.Volumes {
		sources = append(sources, v["source"].(string)+":"+v["target"].(string))
	}
	want := []string{"/var/run/docker.sock:/var/run/docker.sock", f.dir + ":" + f.dir}
	if strings.Join(sources, " ") != strings.Join(want, " ") {
		t.Errorf("volumes = %v, want %v", sources, want)
	}
}

// A project without x-backup.schedule has nothing to schedule: one line, exit 2.
func TestScheduleWithoutASchedule(t *testing.T) {
	f := newScheduleFixture(t)
	dir := writeCompose(t, "services:\n  db:\n    image: postgres\n    x-backup: {dump: pg_dumpall}\n")
	err := runApp(context.Background(), []string{"--project-directory", dir, "schedule"}, f.d)
	if err == nil || !strings.Contains(err.Error(), "x-backup.schedule is not set") || exitCode(context.Background(), err) != ExitUsage {
		t.Fatalf("err = %v", err)
	}
}

// status joins the snapshots (last success) and the scheduler's state (a failed run
// after it, the next tick).
func TestBuildStatus(t *testing.T) {
	dir := writeCompose(t, scheduleCompose)
	plan, err := app.LoadPlan(context.Background(), composeext.LoadOptions{WorkingDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	snaps := []restic.Snapshot{{ID: "aaaa", ShortID: "aaaa", Time: t0, Tags: []string{"service=db"}}}
	next := t0.Add(10 * time.Minute)
	sched := &app.SchedulerView{Running: true, Jobs: map[string]schedule.JobState{"up": {Next: next}},
		ServiceStates: map[string]schedule.ServiceState{"db": {LastRun: t0.Add(5 * time.Minute), LastStatus: "failed", LastError: "dump exited 1"}}}
	v := app.BuildStatus(plan, "prod-abc", snaps, sched)
	var db, files app.ServiceStatus
	for _, s := range v.Services {
		switch s.Service {
		case "db":
			db = s
		case "files":
			files = s
		}
	}
	if db.LastStatus != "failed" || !db.LastRun.Equal(t0.Add(5*time.Minute)) || !db.LastSuccess.Equal(t0) || db.LastSnapshot != "aaaa" || !db.NextRun.Equal(next) {
		t.Errorf("db = %+v", db)
	}
	if files.LastRun != nil || files.LastSuccess != nil || !files.NextRun.Equal(next) {
		t.Errorf("files = %+v", files)
	}
	sched.Running = false
	if stopped := app.BuildStatus(plan, "prod-abc", snaps, sched); stopped.Services[0].NextRun != nil {
		t.Errorf("a stopped scheduler has a next run: %+v", stopped.Services[0])
	}
	var out bytes.Buffer
	if err := writeStatus(&out, v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "failed: dump exited 1") {
		t.Errorf("status table:\n%s", out.String())
	}
}

// status shows a run the scheduler found interrupted at its start: the service it had
// left stopped, and when recovery started it again.
func TestStatusInterrupted(t *testing.T) {
	dir := writeCompose(t, scheduleCompose)
	plan, err := app.LoadPlan(context.Background(), composeext.LoadOptions{WorkingDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.Local)
	again := t0.Add(time.Hour)
	in := &schedule.Interruption{Job: "up", Started: t0, Began: []string{"files"}, Found: again, Cause: "the scheduler died during the run",
		Restarted: []schedule.Restart{{Service: "files", Container: "c1", At: again}}}
	sched := &app.SchedulerView{Running: true, Container: "shop-docker-backup-1", Interrupted: in, Jobs: map[string]schedule.JobState{},
		ServiceStates: map[string]schedule.ServiceState{"files": {LastRun: t0, LastStatus: "interrupted", LastError: "the scheduler died during the run", StartedAgain: again}}}
	var out bytes.Buffer
	if err := writeStatus(&out, app.BuildStatus(plan, "prod", nil, sched)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"interrupted run: up of 2026-12-01 03:00:00 (the scheduler died during the run), found 2026-12-01 04:00:00: files started again at 04:00:00",
		"interrupted: the scheduler died during the run (left stopped, started again 2026-12-01 04:00:00)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
}
