package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/report"
)

// filesService is the fixture's stop: true service (shop_files, on worker 2).
func filesService(f *fixture) *swarm.Service {
	for i := range f.eng.Swarm.Services {
		if f.eng.Swarm.Services[i].Spec.Name == "shop_files" {
			return &f.eng.Swarm.Services[i]
		}
	}
	panic("no service shop_files")
}

// atCount fails the test unless shop_files asks for n replicas, with no record of a
// scaling, and its task runs.
func atCount(t *testing.T, f *fixture, n uint64) {
	t.Helper()
	s := filesService(f)
	if got := *s.Spec.Mode.Replicated.Replicas; got != n {
		t.Errorf("shop_files at %d replicas, want %d", got, n)
	}
	if _, ok := s.Spec.Labels[engine.LabelScaledBy]; ok {
		t.Errorf("shop_files still labelled %v", s.Spec.Labels)
	}
	for _, task := range f.eng.Swarm.Tasks {
		if task.ServiceID == s.ID && task.Status.State != swarm.TaskStateRunning {
			t.Errorf("task %s of shop_files is %s", task.ID, task.Status.State)
		}
	}
}

// seenAtZero is a job program that records whether shop_files was at 0 with its task
// ended while the copy ran, then ends as code (after writing a summary when 0).
func seenAtZero(f *fixture, code int, seen *string) enginetest.JobProgram {
	return func(j *enginetest.Job) int {
		s := filesService(f)
		state := "?"
		for _, task := range f.eng.Swarm.Tasks {
			if task.ServiceID == s.ID {
				state = string(task.Status.State)
			}
		}
		*seen = fmt.Sprintf("replicas %d, recorded %v, task %s", *s.Spec.Mode.Replicated.Replicas, s.Spec.Labels[engine.LabelScaledBy] != "", state)
		if code == 0 {
			fmt.Fprintln(&j.Stdout, `{"message_type":"summary","data_added":512,"total_files_processed":2,"snapshot_id":"feedfacefeedface"}`)
		} else {
			fmt.Fprintln(&j.Stderr, "Fatal: unable to save snapshot")
		}
		return code
	}
}

// A stop: true service on a stack is scaled to 0 (its count and the run recorded on
// it) for the copy, which runs on the node its task ran on, and always scaled back:
// after a copy that succeeds, one that fails, and one ended by Ctrl-C.
func TestStackUpStopScales(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   int
		cancel bool
		status report.Status
	}{
		{"copy succeeds", 0, false, report.StatusOK},
		{"copy fails", 1, false, report.StatusFailed},
		{"ctrl-c during the copy", 0, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := stackS3Fixture(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var seen string
			program := seenAtZero(f, tc.code, &seen)
			f.eng.Swarm.Job = func(j *enginetest.Job) int {
				code := program(j)
				if tc.cancel {
					cancel()
				}
				return code
			}
			rep, err := f.app.Up(ctx, UpOptions{Load: f.load(), Services: []string{"files"}}, f.sink())
			if seen != "replicas 0, recorded true, task shutdown" {
				t.Errorf("while the copy ran: %s; want the service at 0, recorded, its task ended", seen)
			}
			atCount(t, f, 1)
			if j := f.eng.Swarm.Jobs[0]; j.Spec.TaskTemplate.Placement.Constraints[0] != "node.id==w2node0000000000000000000" {
				t.Errorf("the copy ran with %v, want worker 2", j.Spec.TaskTemplate.Placement.Constraints)
			}
			switch {
			case tc.cancel:
				if err == nil || ctx.Err() == nil {
					t.Errorf("up: %v, want interrupted", err)
				}
			case tc.status == report.StatusOK && err != nil, tc.status != report.StatusOK && err == nil:
				t.Errorf("up: %v", err)
			case len(rep.Services) != 1 || rep.Services[0].Status != tc.status:
				t.Errorf("services %+v, want files %s", rep.Services, tc.status)
			}
		})
	}
}

// A global service with stop: true is refused with one line: swarm cannot scale it to 0.
func TestStackUpStopGlobalRefused(t *testing.T) {
	f, _ := stackS3Fixture(t)
	files := enginetest.StackService("shop", "files", enginetest.Global(), enginetest.VolumeMount("shop_uploads", "/srv"))
	setService(f, files, enginetest.RunningTask(files, 0, "w2node0000000000000000000", "c-files"))
	rep, err := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"files"}}, f.sink())
	want := "service files not backed up on the stack: shop_files is a global swarm service, which cannot be scaled to 0 for stop: true (moby 24901)"
	if err == nil || len(rep.Services) != 1 || rep.Services[0].Error != want {
		t.Fatalf("up: %v, %+v; want files failed: %s", err, rep.Services, want)
	}
	if c := f.eng.CallsWith("service-update", "service-create"); len(c) > 0 {
		t.Errorf("a refused service got %v", c)
	}
}

// A run killed while the service was at 0 left it so, with the record: the next up
// scales it back (one line), then backs it up as usual, and it is at its count again.
func TestStackUpRecoversScaledService(t *testing.T) {
	f, _ := stackS3Fixture(t)
	s := filesService(f)
	zero := uint64(0)
	s.Spec.Mode.Replicated.Replicas = &zero
	s.Spec.Labels[engine.LabelScaledFrom], s.Spec.Labels[engine.LabelScaledBy] = "1", "dead000001"
	for i := range f.eng.Swarm.Tasks {
		if f.eng.Swarm.Tasks[i].ServiceID == s.ID {
			f.eng.Swarm.Tasks[i].DesiredState, f.eng.Swarm.Tasks[i].Status.State = swarm.TaskStateShutdown, swarm.TaskStateShutdown
		}
	}
	var seen string
	f.eng.Swarm.Job = seenAtZero(f, 0, &seen)
	rep, err := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"files"}}, f.sink())
	if err != nil || len(rep.Services) != 1 || rep.Services[0].Status != report.StatusOK {
		t.Fatalf("up: %v, %+v", err, rep.Services)
	}
	if want := "scaled service shop_files back to 1 replicas: interrupted run dead000001 had scaled it to 0"; !strings.Contains(f.err.String(), want) {
		t.Errorf("up said\n%s\nwant %q", f.err.String(), want)
	}
	if seen != "replicas 0, recorded true, task shutdown" {
		t.Errorf("while the copy ran: %s", seen)
	}
	atCount(t, f, 1)
}
