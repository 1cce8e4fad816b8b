package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

func scaleFixture(t *testing.T) (*enginetest.Engine, string) {
	e := enginetest.New(t)
	svc := enginetest.StackService("shop", "files", enginetest.Replicated(2))
	e.Swarm = &enginetest.Swarm{NodeID: "m", Manager: true, Services: []swarm.Service{svc},
		Tasks: []swarm.Task{enginetest.RunningTask(svc, 1, "w1", "c1"), enginetest.RunningTask(svc, 2, "w1", "c2")}}
	return e, svc.ID
}

func TestScaleToZeroAndBack(t *testing.T) {
	ctx := context.Background()
	e, id := scaleFixture(t)
	from, err := engine.ScaleToZero(ctx, e, id, "run1")
	if err != nil || from != 2 {
		t.Fatalf("ScaleToZero = %d, %v; want 2", from, err)
	}
	if err := engine.WaitTasksEnded(ctx, e, id, 1); err != nil {
		t.Fatal(err)
	}
	scaled, err := engine.ScaledServices(ctx, e)
	if err != nil || len(scaled) != 1 || scaled[0].From != 2 || scaled[0].Run != "run1" || scaled[0].Name != "shop_files" || scaled[0].Namespace != "shop" {
		t.Fatalf("ScaledServices = %+v, %v", scaled, err)
	}
	if _, err := engine.ScaleToZero(ctx, e, id, "run2"); err == nil || !strings.Contains(err.Error(), "scaled to 0 by run run1") {
		t.Fatalf("second ScaleToZero: %v, want the first run named", err)
	}
	if ok, err := engine.ScaleBack(ctx, e, id, "run2"); err != nil || ok {
		t.Fatalf("ScaleBack for another run = %v, %v; want nothing done", ok, err)
	}
	ok, err := engine.ScaleBack(ctx, e, id, "run1")
	if err != nil || !ok {
		t.Fatalf("ScaleBack = %v, %v", ok, err)
	}
	svc := e.Swarm.Services[0]
	if n := *svc.Spec.Mode.Replicated.Replicas; n != 2 {
		t.Errorf("replicas %d after ScaleBack, want 2", n)
	}
	if _, ok := svc.Spec.Labels[engine.LabelScaledFrom]; ok {
		t.Errorf("labels %v still record the scaling", svc.Spec.Labels)
	}
	if ok, err := engine.ScaleBack(ctx, e, id, "run1"); err != nil || ok {
		t.Errorf("second ScaleBack = %v, %v; want nothing done", ok, err)
	}
	if got, _ := engine.ScaledServices(ctx, e); len(got) != 0 {
		t.Errorf("ScaledServices after ScaleBack = %+v", got)
	}
}

func TestScaleToZeroRefusesGlobal(t *testing.T) {
	e := enginetest.New(t)
	svc := enginetest.StackService("shop", "agent", enginetest.Global())
	e.Swarm = &enginetest.Swarm{NodeID: "m", Manager: true, Services: []swarm.Service{svc}}
	if _, err := engine.ScaleToZero(context.Background(), e, svc.ID, "run1"); err == nil || !strings.Contains(err.Error(), "not a replicated service") {
		t.Fatalf("ScaleToZero of a global service: %v", err)
	}
}

// raceOnce is an engine where another writer updates the service between the first
// read and the first write.
type raceOnce struct {
	*enginetest.Engine
	raced bool
}

func (r *raceOnce) ServiceUpdate(ctx context.Context, id string, o client.ServiceUpdateOptions) (client.ServiceUpdateResult, error) {
	if !r.raced {
		r.raced = true
		r.Swarm.Services[0].Version.Index++
	}
	return r.Engine.ServiceUpdate(ctx, id, o)
}

func TestScaleToZeroRetriesARace(t *testing.T) {
	ctx := context.Background()
	e, id := scaleFixture(t)
	r := &raceOnce{Engine: e}
	if _, err := engine.ScaleToZero(ctx, r, id, "run1"); err != nil {
		t.Fatal(err)
	}
	if !r.raced || *e.Swarm.Services[0].Spec.Mode.Replicated.Replicas != 0 {
		t.Fatalf("raced %v, replicas %d", r.raced, *e.Swarm.Services[0].Spec.Mode.Replicated.Replicas)
	}
}

// WaitTasksRunning returns once the service's tasks run again, and says how many run
// when ctx ends first.
func TestWaitTasksRunning(t *testing.T) {
	ctx := context.Background()
	e, id := scaleFixture(t)
	if _, err := engine.ScaleToZero(ctx, e, id, "run1"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := engine.WaitTasksRunning(cancelled, e, id, 2, 1); err == nil || !strings.Contains(err.Error(), "(0 do)") {
		t.Errorf("WaitTasksRunning at 0: %v, want none running", err)
	}
	if _, err := engine.ScaleBack(ctx, e, id, "run1"); err != nil {
		t.Fatal(err)
	}
	if err := engine.WaitTasksRunning(ctx, e, id, 2, 1); err != nil {
		t.Errorf("WaitTasksRunning after ScaleBack: %v", err)
	}
}

// ForgetScaled leaves the service at 0 without the record: nobody scales it back.
func TestForgetScaled(t *testing.T) {
	ctx := context.Background()
	e, id := scaleFixture(t)
	if _, err := engine.ScaleToZero(ctx, e, id, "run1"); err != nil {
		t.Fatal(err)
	}
	from, err := engine.ForgetScaled(ctx, e, id)
	if err != nil || from != 2 {
		t.Fatalf("ForgetScaled = %d, %v; want 2", from, err)
	}
	svc := e.Swarm.Services[0]
	if n := *svc.Spec.Mode.Replicated.Replicas; n != 0 || svc.Spec.Labels[engine.LabelScaledBy] != "" {
		t.Errorf("replicas %d, labels %v: want 0, no record", n, svc.Spec.Labels)
	}
	if ok, err := engine.ScaleBack(ctx, e, id, "run1"); err != nil || ok {
		t.Errorf("ScaleBack after ForgetScaled = %v, %v; want nothing done", ok, err)
	}
}
