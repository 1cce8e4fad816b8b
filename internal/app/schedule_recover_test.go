package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// scheduler.recover, as the scheduler starts: with its state saying it died during up
// (app begun), and app left stopped by that run, it starts app again before any tick,
// logs what it did, and records the run interrupted with app's restart; a next start
// with nothing left begins no run.
func TestScheduleRecoverAtStart(t *testing.T) {
	f := newFixture(t)
	newAnchorRestic(f)
	leftBehind(f)
	ctx := context.Background()
	plan, err := LoadPlan(ctx, f.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scheduler.json")
	jobs := []schedule.Job{{Name: "up", Spec: "0 3 * * *"}}
	t0 := time.Now().Add(-time.Hour)
	dead := schedule.NewTracker(path, "shop", jobs, t0)
	if err := dead.Started("up", t0); err != nil {
		t.Fatal(err)
	}
	if err := dead.ServiceStarted("app"); err != nil {
		t.Fatal(err)
	}

	sc := &scheduler{a: f.app, log: &scheduleLog{out: &f.out}, tracker: schedule.NewTracker(path, "shop", jobs, time.Now())}
	if err := sc.recover(ctx, plan); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	if c, _ := f.eng.Container("c1"); !c.Running() {
		t.Errorf("app was not started again:\n%s", f.out.String())
	}
	for _, want := range []string{"schedule: up started at", "was interrupted: the scheduler died during the run; recovering",
		"schedule: recovery: started container c1 again: interrupted run dead000001 had stopped it",
		"schedule: recovered: app started again at"} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, f.out.String())
		}
	}
	st := sc.tracker.Snapshot()
	svc := st.Services["app"]
	if svc.LastStatus != report.StatusInterrupted || svc.StartedAgain.IsZero() || st.Jobs["up"].LastStatus != report.StatusInterrupted ||
		st.Interrupted == nil || len(st.Interrupted.Restarted) != 1 || st.Interrupted.Restarted[0].Service != "app" {
		t.Errorf("state = %+v", st)
	}

	created := len(f.eng.CallsWith("create"))
	again := &scheduler{a: f.app, log: &scheduleLog{out: &f.out}, tracker: schedule.NewTracker(path, "shop", jobs, time.Now())}
	if err := again.recover(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if n := len(f.eng.CallsWith("create")); n != created {
		t.Errorf("a start with nothing left created %d containers", n-created)
	}
}
