package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/run"
)

// stackCompose is project shop as `docker stack deploy -c compose.yaml shop` deploys it.
const stackCompose = `name: shop
x-backup:
  repository: REPO
  password_file: restic.pw
  schedule: "0 3 * * *"
services:
  db:
    image: postgres
    volumes: [pgdata:/var/lib/postgresql/data]
    x-backup: {dump: pg_dumpall -U postgres}
  files:
    image: example/files
    volumes: [uploads:/srv]
    x-backup: {volumes: /srv, stop: true}
  cache:
    image: redis
    volumes: [cache:/data]
    x-backup: {volumes: /data}
  web:
    image: example/web
    x-backup: false
volumes: {pgdata: {}, uploads: {}, cache: {}}
`

// stackFixture is the fixture's project as stack shop, seen through manager m1: db on
// worker w1, files on w2; cache and web not deployed.
func stackFixture(t *testing.T) *fixture {
	f := composeFixture(t, stackCompose)
	db := enginetest.StackService("shop", "db", enginetest.Replicated(1), enginetest.VolumeMount("shop_pgdata", "/var/lib/postgresql/data"))
	files := enginetest.StackService("shop", "files", enginetest.Replicated(1), enginetest.VolumeMount("shop_uploads", "/srv"))
	f.eng.Swarm = &enginetest.Swarm{
		NodeID: "m1node0000000000000000000", Manager: true,
		Nodes: []swarm.Node{enginetest.SwarmNode("m1node0000000000000000000", "manager"),
			enginetest.SwarmNode("w1node0000000000000000000", "worker-1"), enginetest.SwarmNode("w2node0000000000000000000", "worker-2")},
		Services: []swarm.Service{db, files},
		Tasks: []swarm.Task{enginetest.RunningTask(db, 1, "w1node0000000000000000000", "c-db"),
			enginetest.RunningTask(files, 1, "w2node0000000000000000000", "c-files")},
	}
	return f
}

// setService replaces (or adds) a service of the fixture's stack, with its tasks.
func setService(f *fixture, s swarm.Service, tasks ...swarm.Task) {
	sw := f.eng.Swarm
	for i := range sw.Services {
		if sw.Services[i].ID == s.ID {
			sw.Services = append(sw.Services[:i], sw.Services[i+1:]...)
			break
		}
	}
	sw.Services = append(sw.Services, s)
	kept := sw.Tasks[:0]
	for _, t := range sw.Tasks {
		if t.ServiceID != s.ID {
			kept = append(kept, t)
		}
	}
	sw.Tasks = append(kept, tasks...)
}

// The commands that only read or write the repository work on a stack.
func TestStackReadOnlyCommandsWork(t *testing.T) {
	for _, args := range [][]string{{"snapshots"}, {"check"}} {
		t.Run(args[0], func(t *testing.T) {
			f := stackFixture(t)
			newAnchorRestic(f)
			f.rst.Reply("snapshots", enginetest.Reply{Stdout: "[]\n"})
			if err := f.run(args...); err != nil {
				t.Fatalf("%v on a stack: %v\n%s", args, err, f.err.String())
			}
		})
	}
}

func TestDetectStack(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
		stack bool
		err   string
	}{
		{"a compose project", func(f *fixture) { f.eng.Swarm = nil }, false, ""},
		{"a stack", func(*fixture) {}, true, ""},
		{"another stack on the swarm", func(f *fixture) {
			f.eng.Swarm.Services = []swarm.Service{enginetest.StackService("other", "db", enginetest.Replicated(1))}
		}, false, ""},
		{"both", func(f *fixture) { f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", false)) }, false,
			"docker backup up: shop is both a compose project (containers labelled com.docker.compose.project=shop) and a swarm stack (services labelled com.docker.stack.namespace=shop): remove one, or deploy one under another name"},
		{"a worker running the stack's tasks", func(f *fixture) {
			f.eng.Swarm = &enginetest.Swarm{NodeID: "w1"}
			f.eng.AddContainer(enginetest.Seed{Name: "shop_db.1.x", Labels: map[string]string{engine.LabelStackNamespace: "shop"}})
		}, false, "docker backup up: shop is a swarm stack (com.docker.stack.namespace=shop; tasks of it run on this node) and this engine is a worker node, which does not see the stack's services: run docker backup against a manager of the swarm (docker -H or --context)"},
		{"a worker without", func(f *fixture) { f.eng.Swarm = &enginetest.Swarm{NodeID: "w1"} }, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := stackFixture(t)
			tc.setup(f)
			info, err := engine.Info(ctx, f.eng)
			if err != nil {
				t.Fatal(err)
			}
			st, err := detectStack(ctx, f.eng, info, "shop", "up")
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, ErrStack) {
					t.Errorf("err %v, want ErrStack:\n%s", err, tc.err)
				}
				return
			}
			if err != nil || (st != nil) != tc.stack {
				t.Errorf("got %+v, %v; want a stack: %v", st, err, tc.stack)
			}
		})
	}
}

// A swarm the engine will not list (a socket proxy without swarm calls) is a warning:
// the command goes on as for a compose project.
func TestStackNotListedIsAWarning(t *testing.T) {
	f := stackFixture(t)
	newAnchorRestic(f)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: "[]\n"})
	f.eng.Fail("service-list", errors.New("403 Forbidden"))
	if err := f.run("status"); err != nil {
		t.Fatalf("status: %v", err)
	}
	if want := "warning: not checked whether shop is a swarm stack: listing the services of stack shop: 403 Forbidden\n"; f.err.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", f.err.String(), want)
	}
}

func TestStackPlan(t *testing.T) {
	ctx := context.Background()
	f := stackFixture(t)
	plan, err := LoadPlan(ctx, f.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	st, err := f.app.StackPlan(ctx, plan, func(s string) { warned = append(warned, s) })
	if err != nil || st == nil || len(warned) > 0 {
		t.Fatalf("StackPlan: %+v, %v, warnings %v", st, err, warned)
	}
	if st.Namespace != "shop" || st.Manager != (engine.Node{ID: "m1node0000000000000000000", Hostname: "manager"}) {
		t.Errorf("stack %s, manager %+v", st.Namespace, st.Manager)
	}
	byName := map[string]StackServicePlan{}
	for _, s := range st.Services {
		byName[s.Name] = s
	}
	if len(st.Services) != len(plan.Services) {
		t.Errorf("%d services, want the plan's %d", len(st.Services), len(plan.Services))
	}
	db := byName["db"]
	if db.Service != "shop_db" || db.Mode != engine.ModeReplicated || db.Replicas == nil || *db.Replicas != 1 || db.Refused != "" ||
		len(db.Tasks) != 1 || db.Tasks[0].Node.Hostname != "worker-1" || db.Tasks[0].ContainerID != "c-db" ||
		len(db.Volumes) != 1 || db.Volumes[0].Name != "shop_pgdata" {
		t.Errorf("db: %+v", db)
	}
	if cache := byName["cache"]; cache.Service != "" || len(cache.Tasks) != 0 {
		t.Errorf("cache, not deployed: %+v", cache)
	}
	if got := PlanProblems(plan, st); len(got) != 0 {
		t.Errorf("problems %v", got)
	}
}

// A replicated service with more than one task and local volumes is refused, in one
// line naming it; one scaled to 0 has no task and is not refused.
func TestStackPlanMultiTask(t *testing.T) {
	ctx := context.Background()
	f := stackFixture(t)
	cache := enginetest.StackService("shop", "cache", enginetest.Replicated(3), enginetest.VolumeMount("shop_cache", "/data"))
	setService(f, cache, enginetest.RunningTask(cache, 1, "w1node0000000000000000000", "c1"), enginetest.RunningTask(cache, 2, "w2node0000000000000000000", "c2"))
	files := enginetest.StackService("shop", "files", enginetest.Replicated(0), enginetest.VolumeMount("shop_uploads", "/srv"))
	setService(f, files)
	plan, err := LoadPlan(ctx, f.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.app.StackPlan(ctx, plan, func(s string) { t.Errorf("warning %s", s) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stack shop: up refuses service cache: 3 tasks with local volumes (shop_cache): each task would have its own volume, on its own node"}
	if got := PlanProblems(plan, st); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%v\nwant\n%v", got, want)
	}
}

// A global service with stop: true is refused by plan in one line naming the file, the
// service and the key.
func TestStackPlanGlobalStop(t *testing.T) {
	ctx := context.Background()
	f := stackFixture(t)
	files := enginetest.StackService("shop", "files", enginetest.Global(), enginetest.VolumeMount("shop_uploads", "/srv"))
	setService(f, files, enginetest.RunningTask(files, 0, "w2node0000000000000000000", "c-files"))
	plan, err := LoadPlan(ctx, f.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.app.StackPlan(ctx, plan, func(s string) { t.Errorf("warning %s", s) })
	want := "compose.yaml: services.files.x-backup.stop: shop_files is a global swarm service, which cannot be stopped for the copy: swarm cannot scale it to 0 (moby 24901); set stop: false, or deploy it replicated"
	if err == nil || err.Error() != want || !errors.Is(err, composeext.ErrInvalid) {
		t.Errorf("err %v, want a configuration error:\n%s", err, want)
	}
}

// plan works without an engine: whether the project is a stack is then a warning.
func TestStackPlanWithoutEngine(t *testing.T) {
	f := stackFixture(t)
	f.app.Docker = func() (DockerAPI, error) { return nil, errors.New("connecting to the docker engine: no such socket") }
	plan, err := LoadPlan(context.Background(), f.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var warned bytes.Buffer
	st, err := f.app.StackPlan(context.Background(), plan, func(s string) { warned.WriteString(s) })
	if st != nil || err != nil || warned.String() != "not checked whether shop is a swarm stack: connecting to the docker engine: no such socket" {
		t.Errorf("got %+v, %v, warning %q", st, err, warned.String())
	}
}

// snapshots on a stack reads the stack's one series (<stack>@swarm-…), which up writes,
// not the manager's own machine's.
func TestStackSnapshotsReadTheStacksSeries(t *testing.T) {
	f, _ := stackS3Fixture(t)
	if _, err := f.app.Snapshots(context.Background(), f.load(), nil, "", f.sink()); err != nil {
		t.Fatal(err)
	}
	got := f.rst.Find("snapshots")
	want := "--host " + run.IdentifyStack("shop", "", "cluster-shop").Host()
	if len(got) != 1 || !strings.Contains(got[0].String(), want) {
		t.Errorf("restic snapshots ran %v, want %q", f.rst.Commands(), want)
	}
}
