package plugin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// plainEngine is an app whose engine is in no swarm: plan shows a compose project.
func plainEngine(t *testing.T) *app.App {
	eng := enginetest.New(t)
	return &app.App{Docker: func() (dockerAPI, error) { return fakeDocker{Engine: eng}, nil }}
}

// stackPlanCompose is project shop, deployed as stack shop.
const stackPlanCompose = `name: shop
x-backup:
  repository: /srv/backups/shop
  password_file: /srv/restic.pw
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
  search:
    image: example/search
    volumes: [index:/index]
    x-backup: {volumes: /index}
  logs:
    image: example/logs
    volumes: [logs:/logs]
    x-backup: {volumes: /logs}
volumes: {pgdata: {}, uploads: {}, cache: {}, index: {}, logs: {}}
`

const (
	managerID = "m1nodeid00000000000000000"
	worker1ID = "w1nodeid00000000000000000"
	worker2ID = "w2nodeid00000000000000000"
)

// newStackFixture is stack shop seen through manager m1: db on worker-1, files on
// worker-2, cache with a task on each worker, search scaled to 0, logs not deployed.
func newStackFixture(t *testing.T, filesMode swarm.ServiceMode) *remoteFixture {
	f := newRemoteFixture(t, stackPlanCompose)
	db := enginetest.StackService("shop", "db", enginetest.Replicated(1), enginetest.VolumeMount("shop_pgdata", "/var/lib/postgresql/data"))
	files := enginetest.StackService("shop", "files", filesMode, enginetest.VolumeMount("shop_uploads", "/srv"))
	cache := enginetest.StackService("shop", "cache", enginetest.Replicated(2), enginetest.VolumeMount("shop_cache", "/data"))
	search := enginetest.StackService("shop", "search", enginetest.Replicated(0), enginetest.VolumeMount("shop_index", "/index"))
	f.eng.Swarm = &enginetest.Swarm{NodeID: managerID, Manager: true,
		Nodes:    []swarm.Node{enginetest.SwarmNode(managerID, "manager"), enginetest.SwarmNode(worker1ID, "worker-1"), enginetest.SwarmNode(worker2ID, "worker-2")},
		Services: []swarm.Service{db, files, cache, search},
		Tasks: []swarm.Task{enginetest.RunningTask(db, 1, worker1ID, "c-db"), enginetest.RunningTask(files, 1, worker2ID, "c-files"),
			enginetest.RunningTask(cache, 1, worker1ID, "c-cache1"), enginetest.RunningTask(cache, 2, worker2ID, "c-cache2")},
	}
	return f
}

// plan on a stack: a Stack header, and in each service's block its swarm service and,
// per task, the node and the volumes there; what up refuses is one warning line.
func TestPlanStackText(t *testing.T) {
	f := newStackFixture(t, enginetest.Replicated(1))
	if err := f.run("plan"); err != nil {
		t.Fatalf("plan: %v\n%s", err, f.err.String())
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	out := words(f.out.String())
	for _, want := range []string{
		"Project shop Stack shop (a swarm stack: com.docker.stack.namespace=shop), through manager manager (m1nodeid0000) Repository",
		"swarm shop_db (replicated 1) task worker-1 (w1nodeid0000): running; volume shop_pgdata local to worker-1 files",
		"swarm shop_files (replicated 1) task worker-2 (w2nodeid0000): running; volume shop_uploads local to worker-2 " +
			"stop scaled to 0 for the copy (no task runs), then back to 1 logs",
		"swarm shop_cache (replicated 2) task worker-1 (w1nodeid0000): running; volume shop_cache local to worker-1 " +
			"task worker-2 (w2nodeid0000): running; volume shop_cache local to worker-2 " +
			"refused up refuses it: 2 tasks with local volumes (shop_cache): each task would have its own volume, on its own node db",
		"swarm shop_search (replicated 0) task none running: nothing to back up while it has none",
		"tags project=shop,service=logs,strategy=volumes,volume=logs swarm no such service in the stack: nothing to back up search",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, f.out.String())
		}
	}
	want := "warning: stack shop: up refuses service cache: 2 tasks with local volumes (shop_cache): each task would have its own volume, on its own node\n"
	if f.err.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", f.err.String(), want)
	}
}

// plan --json carries the same in a stack object.
func TestPlanStackJSON(t *testing.T) {
	f := newStackFixture(t, enginetest.Replicated(1))
	if err := f.run("plan", "--json"); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, f.err.String())
	}
	var doc struct {
		Project string
		Stack   *app.StackPlan
	}
	if err := json.Unmarshal(f.out.Bytes(), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, f.out.String())
	}
	st := doc.Stack
	if st == nil || st.Namespace != "shop" || st.Manager != (engine.Node{ID: managerID, Hostname: "manager"}) || len(st.Services) != 5 {
		t.Fatalf("stack: %+v\n%s", st, f.out.String())
	}
	for _, s := range st.Services {
		switch s.Name {
		case "db":
			if s.Service != "shop_db" || len(s.Tasks) != 1 || s.Tasks[0].Node != (engine.Node{ID: worker1ID, Hostname: "worker-1"}) ||
				s.Tasks[0].ContainerID != "c-db" || s.Tasks[0].State != "running" ||
				len(s.Volumes) != 1 || s.Volumes[0] != (engine.StackVolume{Name: "shop_pgdata", Target: "/var/lib/postgresql/data", Driver: "local"}) {
				t.Errorf("db: %+v", s)
			}
		case "cache":
			if len(s.Tasks) != 2 || !strings.HasPrefix(s.Refused, "2 tasks with local volumes (shop_cache)") {
				t.Errorf("cache: %+v", s)
			}
		case "files":
			if s.Stop != "scaled to 0 for the copy (no task runs), then back to 1" || s.Refused != "" {
				t.Errorf("files, stop: true: %+v", s)
			}
		case "logs":
			if s.Service != "" || s.Tasks == nil || len(s.Tasks) != 0 {
				t.Errorf("logs, not deployed: %+v", s)
			}
		}
	}
	for _, want := range []string{`"stack": {`, `"node": {`, `"hostname": "worker-1"`, `"tasks": []`} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("--json lacks %s:\n%s", want, f.out.String())
		}
	}
}

// plan --strict fails (exit 1) on a service up refuses on the stack.
func TestPlanStackStrict(t *testing.T) {
	f := newStackFixture(t, enginetest.Replicated(1))
	err := f.run("plan", "--strict")
	want := "docker backup plan --strict: stack shop: up refuses service cache: 2 tasks with local volumes (shop_cache): each task would have its own volume, on its own node"
	if exitCode(context.Background(), err) != ExitFailure || err.Error() != want {
		t.Errorf("err %v, want exit code 1:\n%s", err, want)
	}
}

// A global service with stop: true: plan refuses it with one line naming the file, the
// service and the key (exit code 2), and prints no plan.
func TestPlanStackGlobalStop(t *testing.T) {
	f := newStackFixture(t, enginetest.Global())
	err := f.run("plan")
	want := "compose.yaml: services.files.x-backup.stop: shop_files is a global swarm service, which cannot be stopped for the copy: swarm cannot scale it to 0 (moby 24901); set stop: false, or deploy it replicated"
	if exitCode(context.Background(), err) != ExitUsage || err.Error() != want {
		t.Errorf("err %v, want exit code 2:\n%s", err, want)
	}
	if f.out.Len() > 0 {
		t.Errorf("a refused plan printed:\n%s", f.out.String())
	}
}

// up on a stack with a folder repository (one machine's): one line naming the file and
// key, exit code 2, nothing asked of the engine that changes anything.
func TestUpRefusesStackFolderRepository(t *testing.T) {
	f := newStackFixture(t, enginetest.Replicated(1))
	err := f.run("up")
	want := "compose.yaml: x-backup.repository: /srv/backups/shop is a folder of one machine, and shop is a swarm stack whose volumes are backed up on the nodes that hold them: use a repository every node reaches (s3:, sftp:, rest:…)"
	if exitCode(context.Background(), err) != ExitUsage || err.Error() != want {
		t.Errorf("err %v, want exit code 2:\n%s", err, want)
	}
	if calls := f.eng.Calls(); len(calls) > 0 {
		t.Errorf("a refused up asked the engine for %v", calls)
	}
	if f.out.Len() > 0 || f.err.Len() > 0 {
		t.Errorf("a refused up printed:\n%s%s", f.out.String(), f.err.String())
	}
}

// A task not placed yet, and a volume of another driver than local, in a service's block.
func TestPlanStackRowsPendingAndDriver(t *testing.T) {
	var out strings.Builder
	writeService(&out, composeext.ServicePlan{Name: "files", Strategy: composeext.StrategyVolumes}, &app.StackServicePlan{
		Name: "files", Service: "shop_files", Mode: engine.ModeGlobal,
		Tasks:   []engine.Task{{ID: "t1", State: "pending"}, {ID: "t2", Node: engine.Node{ID: worker1ID, Hostname: "worker-1"}, State: "running"}},
		Volumes: []engine.StackVolume{{Name: "shop_uploads", Driver: "local"}, {Name: "shared", Driver: "nfs"}},
	})
	for _, want := range []string{
		"swarm shop_files (global)",
		"task pending, on no node yet; volume shop_uploads local to its node; volume shared (driver nfs)",
		"task worker-1 (w1nodeid0000): running; volume shop_uploads local to worker-1; volume shared (driver nfs)",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("block lacks %q:\n%s", want, out.String())
		}
	}
}

// A stack and a compose project of one name: plan says so in one line, exit code 1.
func TestPlanStackAndComposeProject(t *testing.T) {
	f := newStackFixture(t, enginetest.Replicated(1))
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	err := f.run("plan")
	want := "docker backup plan: shop is both a compose project (containers labelled com.docker.compose.project=shop) and a swarm stack (services labelled com.docker.stack.namespace=shop): remove one, or deploy one under another name"
	if exitCode(context.Background(), err) != ExitFailure || err.Error() != want {
		t.Errorf("err %v, want exit code 1:\n%s", err, want)
	}
}
