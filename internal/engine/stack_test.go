package engine_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// shopSwarm is a manager m1 with workers w1 and w2 running stack shop: db (1 replica,
// volume shop_pgdata) on w1, files (global) on w1 and w2, and a stack other beside it.
func shopSwarm() *enginetest.Swarm {
	db := enginetest.StackService("shop", "db", enginetest.Replicated(1), enginetest.VolumeMount("shop_pgdata", "/var/lib/postgresql/data"))
	files := enginetest.StackService("shop", "files", enginetest.Global(),
		enginetest.VolumeMount("shop_uploads", "/srv"), mount.Mount{Type: mount.TypeVolume, Target: "/tmp/anon"},
		mount.Mount{Type: mount.TypeVolume, Source: "shared", Target: "/shared",
			VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "nfs-driver"}}},
		mount.Mount{Type: mount.TypeBind, Source: "/etc/app", Target: "/etc/app"})
	other := enginetest.StackService("other", "db", enginetest.Replicated(1))
	old := enginetest.RunningTask(db, 1, "w2", "c-old")
	old.ID, old.DesiredState, old.Status.State = "task-old", swarm.TaskStateShutdown, swarm.TaskStateShutdown
	return &enginetest.Swarm{
		NodeID: "m1", Manager: true,
		Nodes:    []swarm.Node{enginetest.SwarmNode("m1", "manager"), enginetest.SwarmNode("w1", "worker-1"), enginetest.SwarmNode("w2", "worker-2")},
		Services: []swarm.Service{files, db, other},
		Tasks: []swarm.Task{old, enginetest.RunningTask(db, 1, "w1", "c-db"), enginetest.RunningTask(files, 0, "w2", "c-f2"),
			enginetest.RunningTask(files, 0, "w1", "c-f1"), enginetest.RunningTask(other, 1, "w1", "c-other")},
	}
}

func TestFindStack(t *testing.T) {
	api := enginetest.New(t)
	api.Swarm = shopSwarm()
	st, err := engine.FindStack(context.Background(), api, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := &engine.Stack{Namespace: "shop", Manager: engine.Node{ID: "m1", Hostname: "manager"}, Services: []engine.StackService{
		{ID: "svc-shop_db", Name: "db", FullName: "shop_db", Mode: engine.ModeReplicated, Replicas: 1,
			Volumes: []engine.StackVolume{{Name: "shop_pgdata", Target: "/var/lib/postgresql/data", Driver: "local"}},
			Tasks:   []engine.Task{{ID: "task-shop_db-1-w1", Slot: 1, Node: engine.Node{ID: "w1", Hostname: "worker-1"}, State: "running", ContainerID: "c-db"}}},
		{ID: "svc-shop_files", Name: "files", FullName: "shop_files", Mode: engine.ModeGlobal,
			Volumes: []engine.StackVolume{{Name: "shop_uploads", Target: "/srv", Driver: "local"}, {Name: "shared", Target: "/shared", Driver: "nfs-driver"}},
			Tasks: []engine.Task{
				{ID: "task-shop_files-0-w1", Node: engine.Node{ID: "w1", Hostname: "worker-1"}, State: "running", ContainerID: "c-f1"},
				{ID: "task-shop_files-0-w2", Node: engine.Node{ID: "w2", Hostname: "worker-2"}, State: "running", ContainerID: "c-f2"}}},
	}}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stack:\n%+v\nwant\n%+v", st, want)
	}
	if st.Service("files") == nil || st.Service("cache") != nil {
		t.Errorf("Service: files %v, cache %v", st.Service("files"), st.Service("cache"))
	}
	if !st.Service("files").Mode.Global() || st.Service("db").Mode.Global() {
		t.Errorf("Global: files %v, db %v", st.Service("files").Mode, st.Service("db").Mode)
	}
}

// Not a manager, or no service of the namespace: no stack, and no error.
func TestFindStackNone(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		sw        *enginetest.Swarm
		namespace string
	}{
		{"not in a swarm", nil, "shop"},
		{"a worker", &enginetest.Swarm{NodeID: "w1"}, "shop"},
		{"no such stack", shopSwarm(), "nosuch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := enginetest.New(t)
			api.Swarm = tc.sw
			st, err := engine.FindStack(ctx, api, tc.namespace)
			if st != nil || err != nil {
				t.Errorf("got %+v, %v; want nil, nil", st, err)
			}
		})
	}
}

func TestFindStackFails(t *testing.T) {
	api := enginetest.New(t)
	api.Swarm = shopSwarm()
	api.Fail("task-list", errors.New("boom"))
	if _, err := engine.FindStack(context.Background(), api, "shop"); err == nil || !strings.Contains(err.Error(), "listing the tasks of stack shop: boom") {
		t.Errorf("err %v", err)
	}
}

func TestInfoSwarmRole(t *testing.T) {
	api := enginetest.New(t)
	api.Swarm = &enginetest.Swarm{NodeID: "w1"}
	info, err := engine.Info(context.Background(), api)
	if err != nil || info.Swarm != (engine.SwarmRole{NodeID: "w1"}) {
		t.Errorf("worker: %+v, %v", info.Swarm, err)
	}
	api.Swarm.Manager = true
	if info, _ := engine.Info(context.Background(), api); !info.Swarm.Manager {
		t.Errorf("manager: %+v", info.Swarm)
	}
}
