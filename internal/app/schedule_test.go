package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/schedule"
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
	dir     string
	workdir string
	eng     *enginetest.Engine
	app     *App
}

func newScheduleFixture(t *testing.T) *scheduleFixture {
	f := &scheduleFixture{dir: writeCompose(t, scheduleCompose), workdir: t.TempDir(), eng: enginetest.New(t)}
	f.eng.SystemInfo = system.Info{ID: "engine-id", Name: "prod"}
	f.app = &App{
		Environ: []string{"DOCKER_BACKUP_AGENT_IMAGE=docker-backup:test"},
		Docker:  func() (DockerAPI, error) { return fakeDocker{Engine: f.eng}, nil },
		Mountinfo: func() string {
			return "1291 1271 259:1 /srv/docker/containers/" + selfID + "/hostname /etc/hostname rw - ext4 /dev/x rw\n"
		},
	}
	return f
}

// The scheduler in a container of the project takes the project's name, folder and
// files from its own labels, whatever its working directory: relative bind mounts and
// the default repository resolve under the project's folder, as on the host.
func TestSchedulerFindsItsProjectByItsLabels(t *testing.T) {
	f := newScheduleFixture(t)
	f.eng.AddContainer(enginetest.Seed{ID: selfID, Name: "shop-docker-backup-1", Labels: map[string]string{
		engine.LabelProject: "shop", labelWorkingDir: f.dir, labelConfigFiles: "compose.yaml",
	}})
	load := composeext.LoadOptions{WorkingDir: f.workdir, Environ: f.app.Environ}
	id, err := f.app.discoverProject(context.Background(), &load)
	if err != nil || id != selfID {
		t.Fatalf("discoverProject = %q, %v", id, err)
	}
	plan, err := LoadPlan(context.Background(), load, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Project != "shop" || plan.WorkingDir != f.dir || plan.Repository.URL != filepath.Join(f.dir, "backups") {
		t.Errorf("plan: project %q, folder %q, repository %q", plan.Project, plan.WorkingDir, plan.Repository.URL)
	}
	for _, s := range plan.Services {
		if s.Name == "files" && (len(s.Volumes) != 1 || s.Volumes[0].Source != filepath.Join(f.dir, "files")) {
			t.Errorf("files' bind mount = %+v, want the host path under %s", s.Volumes, f.dir)
		}
	}
}

// A container that is no compose service is told so in one line.
func TestSchedulerOutsideAProject(t *testing.T) {
	f := newScheduleFixture(t)
	f.eng.AddContainer(enginetest.Seed{ID: selfID, Name: "lonely"})
	load := composeext.LoadOptions{WorkingDir: f.workdir}
	_, err := f.app.discoverProject(context.Background(), &load)
	if err == nil || !strings.Contains(err.Error(), "is not a service of a compose project") || !errors.Is(err, ErrUsage) {
		t.Fatalf("err = %v", err)
	}
}

// The plan's schedules become the scheduler's jobs: up, and check and prune when set.
func TestScheduledJobs(t *testing.T) {
	dir := writeCompose(t, scheduleCompose)
	plan, err := LoadPlan(context.Background(), composeext.LoadOptions{WorkingDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := (&scheduler{}).jobs(plan)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.Name+" "+j.Spec)
	}
	if strings.Join(got, ", ") != "up */5 * * * *, check @weekly" {
		t.Errorf("jobs = %v", got)
	}
	if plan.Check.ReadDataSubset != "5%" {
		t.Errorf("check's subset = %q", plan.Check.ReadDataSubset)
	}
}

// A scheduled backup is up's use case: its services' outcomes reach the scheduler's
// state and its view, and it returns the run's outcome.
func TestScheduledUpIsUp(t *testing.T) {
	f := newFixture(t)
	newAnchorRestic(f)
	var kinds []Kind
	jobs := []schedule.Job{{Name: "up", Spec: "0 3 * * *"}}
	sc := &scheduler{a: f.app, log: &scheduleLog{out: &f.out},
		tracker: schedule.NewTracker(filepath.Join(t.TempDir(), "scheduler.json"), "shop", jobs, time.Now()),
		opts: ScheduleOptions{Load: f.load(), Log: &f.out,
			UpView: func() Sink { return SinkFunc(func(e Event) { kinds = append(kinds, e.Kind) }) }}}
	rep := sc.scheduledUp(context.Background())
	if rep.Status != report.StatusOK || len(rep.Services) != 1 || rep.Services[0].Snapshot != "0123456789abcdef" {
		t.Fatalf("run %+v\n%s", rep, f.err.String())
	}
	if st := sc.tracker.Snapshot().Services["app"]; st.LastStatus != report.StatusOK {
		t.Errorf("the scheduler's state has app %+v", st)
	}
	if got := fmt.Sprint(kinds); got != "[start done ended]" {
		t.Errorf("the view got %s", got)
	}
}
