package run

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// scaledBy is service name of stack namespace with n replicas, scaled to 0 by run (no
// run: at its count).
func scaledBy(namespace, name string, n uint64, run string) swarm.Service {
	s := enginetest.StackService(namespace, name, enginetest.Replicated(n))
	if run != "" {
		zero := uint64(0)
		s.Spec.Mode.Replicated.Replicas = &zero
		s.Spec.Labels[engine.LabelScaledFrom] = "2"
		s.Spec.Labels[engine.LabelScaledBy] = run
	}
	return s
}

// A run scales a service to 0, waits for its tasks, and gives its count back, also
// with a cancelled context; a second ScaleBack does nothing.
func TestScaleToZeroAndBackInRun(t *testing.T) {
	f := newFixture(t)
	svc := scaledBy("shop", "files", 2, "")
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{svc},
		Tasks: []swarm.Task{enginetest.RunningTask(svc, 1, "w2", "c1"), enginetest.RunningTask(svc, 2, "w2", "c2")}}
	r := f.newRun("live000001")
	s, err := r.ScaleToZero(context.Background(), svc.ID, svc.Spec.Name)
	if err != nil || s.From() != 2 {
		t.Fatalf("ScaleToZero: %d, %v", s.From(), err)
	}
	got := f.eng.Swarm.Services[0]
	if *got.Spec.Mode.Replicated.Replicas != 0 || got.Spec.Labels[engine.LabelScaledBy] != "live000001" {
		t.Fatalf("after ScaleToZero: %+v", got.Spec)
	}
	for _, task := range f.eng.Swarm.Tasks {
		if task.Status.State != swarm.TaskStateShutdown {
			t.Errorf("task %s is %s", task.ID, task.Status.State)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ScaleBack(ctx); err != nil {
		t.Fatal(err)
	}
	got = f.eng.Swarm.Services[0]
	if *got.Spec.Mode.Replicated.Replicas != 2 || got.Spec.Labels[engine.LabelScaledBy] != "" {
		t.Errorf("after ScaleBack: %+v", got.Spec)
	}
	if err := s.ScaleBack(ctx); err != nil || len(f.eng.CallsWith("service-update")) != 2 {
		t.Errorf("second ScaleBack: %v, updates %v", err, f.eng.CallsWith("service-update"))
	}
}

// Recovery scales back what dead runs of the project scaled, one line each, and
// leaves alone what this run and another stack's run scaled.
func TestRecoverScaledServices(t *testing.T) {
	f := newFixture(t)
	files := scaledBy("shop", "files", 2, "dead000001")
	var tasks []swarm.Task
	for slot := range 2 {
		task := enginetest.RunningTask(files, slot+1, "w2", "")
		task.DesiredState, task.Status.State = swarm.TaskStateShutdown, swarm.TaskStateShutdown
		tasks = append(tasks, task)
	}
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{
		files,
		scaledBy("shop", "uploads", 2, "live000001"),
		scaledBy("other", "files", 2, "live000009"),
		scaledBy("shop", "web", 3, ""),
	}, Tasks: tasks}
	r := f.newRun("live000001")
	r.swarm = true
	if _, err := r.recoverDead(context.Background()); err != nil {
		t.Fatal(err)
	}
	var replicas []uint64
	for _, s := range f.eng.Swarm.Services {
		replicas = append(replicas, *s.Spec.Mode.Replicated.Replicas)
	}
	if !slices.Equal(replicas, []uint64{2, 0, 0, 3}) {
		t.Errorf("replicas %v, want files back at 2 and the others as they were", replicas)
	}
	for _, task := range f.eng.Swarm.Tasks {
		if task.Status.State != swarm.TaskStateRunning {
			t.Errorf("task %d of files is %s after recovery, want running", task.Slot, task.Status.State)
		}
	}
	if _, ok := f.eng.Swarm.Services[0].Spec.Labels[engine.LabelScaledBy]; ok {
		t.Errorf("files still labelled %v", f.eng.Swarm.Services[0].Spec.Labels)
	}
	want := "scaled service shop_files back to 2 replicas: interrupted run dead000001 had scaled it to 0"
	if w := f.warned("scaled service"); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want %q", w, want)
	}
	if rs := r.Restarted(); len(rs) != 1 || rs[0].Service != "files" {
		t.Errorf("Restarted %+v, want files", rs)
	}
}

// Every command that begins a run on a swarm manager (forget, the scheduler's
// recovery: not known to be on a stack) scales back what a dead run of the stack left
// at 0.
func TestBeginOnManagerScalesBack(t *testing.T) {
	f := newFixture(t)
	files := scaledBy("shop", "files", 2, "dead000001")
	task := enginetest.RunningTask(files, 1, "w2", "")
	task.DesiredState, task.Status.State = swarm.TaskStateShutdown, swarm.TaskStateShutdown
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{files}, Tasks: []swarm.Task{task, task}}
	f.eng.Swarm.Tasks[1].ID = "t2"
	f.begin(f.options())
	if n := *f.eng.Swarm.Services[0].Spec.Mode.Replicated.Replicas; n != 2 {
		t.Errorf("files at %d replicas after Begin, want 2", n)
	}
	if w := f.warned("scaled service shop_files back to 2 replicas"); len(w) != 1 {
		t.Errorf("warnings %q", f.warnings)
	}
}

// noServiceList is a manager whose services cannot be listed (a socket proxy).
type noServiceList struct{ *enginetest.Engine }

func (noServiceList) ServiceList(context.Context, client.ServiceListOptions) (client.ServiceListResult, error) {
	return client.ServiceListResult{}, errors.New("403 Forbidden")
}

// On a manager where the run is not known to be on a stack, a swarm that cannot be
// listed fails no run; on a stack it does.
func TestBeginOnManagerNotListed(t *testing.T) {
	f := newFixture(t)
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true}
	o := f.options()
	o.API = noServiceList{f.eng}
	r, err := Begin(context.Background(), o)
	if err != nil {
		t.Fatalf("Begin on a manager: %v", err)
	}
	r.End(context.Background())
	o.Swarm = true
	if r, err := Begin(context.Background(), o); err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		if r != nil {
			r.End(context.Background())
		}
		t.Errorf("Begin on a stack: %v, want the listing's error", err)
	}
}
