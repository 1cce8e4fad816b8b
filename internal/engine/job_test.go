package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

func jobSpec(out *strings.Builder) engine.JobSpec {
	return engine.JobSpec{Name: "shop-backup-files-1", Image: "agent", NodeID: "w2", Cmd: []string{"backup"},
		Labels: map[string]string{"io.docker-backup.run": "r1"}, Init: true, Poll: time.Millisecond,
		Files: []engine.File{{Path: "/run/docker-backup/password", Mode: 0o400, Data: []byte("hunter2")}}, Stdout: out}
}

// A job runs on its node with its files as secrets; its output comes from its logs
// (followed while it runs, for Live, and read once it ended), and it is removed with its
// secrets.
func TestRunJob(t *testing.T) {
	e := enginetest.New(t)
	e.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true}
	e.Swarm.Job = func(j *enginetest.Job) int {
		fmt.Fprintf(&j.Stdout, "read %s\n", j.Secrets["/run/docker-backup/password"])
		return 3
	}
	var out, live strings.Builder
	spec := jobSpec(&out)
	spec.Live = &live
	code, err := engine.RunJob(context.Background(), e, spec)
	if err != nil || code != 3 || out.String() != "read hunter2\n" {
		t.Fatalf("RunJob: %d, %v, output %q", code, err, out.String())
	}
	// The fake's job has run by the time its log is followed: all of it is there.
	if live.String() != "read hunter2\n" {
		t.Errorf("followed while it ran: %q", live.String())
	}
	j := e.Swarm.Jobs[0]
	if c := j.Spec.TaskTemplate.Placement.Constraints; len(c) != 1 || c[0] != "node.id==w2" {
		t.Errorf("constraints %q", c)
	}
	if !j.Removed || e.Swarm.SecretCount() != 0 {
		t.Errorf("left: job removed %v, %d secrets", j.Removed, e.Swarm.SecretCount())
	}
}

// A run stopped (Ctrl-C) while its job runs removes the job and its secrets all the same.
func TestRunJobCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := enginetest.New(t)
	e.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true}
	e.Swarm.Job = func(j *enginetest.Job) int {
		j.Running = true
		cancel()
		return 0
	}
	var out strings.Builder
	if _, err := engine.RunJob(ctx, e, jobSpec(&out)); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunJob: %v, want context.Canceled", err)
	}
	if j := e.Swarm.Jobs[0]; !j.Removed || e.Swarm.SecretCount() != 0 {
		t.Errorf("left: job removed %v, %d secrets", j.Removed, e.Swarm.SecretCount())
	}
}
