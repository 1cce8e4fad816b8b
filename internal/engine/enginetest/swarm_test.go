package enginetest

import (
	"context"
	"slices"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Only a manager lists the swarm; filters are the engine's: values of one filter are
// alternatives, filters all apply.
func TestSwarmLists(t *testing.T) {
	ctx := context.Background()
	e := New(t)
	if _, err := e.ServiceList(ctx, client.ServiceListOptions{}); !cerrdefs.IsUnavailable(err) {
		t.Errorf("not in a swarm: %v, want unavailable", err)
	}
	e.Swarm = &Swarm{NodeID: "w1"}
	if _, err := e.TaskList(ctx, client.TaskListOptions{}); !cerrdefs.IsUnavailable(err) {
		t.Errorf("a worker: %v, want unavailable", err)
	}
	db, web := StackService("shop", "db", Replicated(1)), StackService("shop", "web", Global())
	old := RunningTask(db, 1, "w2", "c0")
	old.ID, old.DesiredState = "old", swarm.TaskStateShutdown
	e.Swarm = &Swarm{NodeID: "m1", Manager: true, Nodes: []swarm.Node{SwarmNode("m1", "manager")},
		Services: []swarm.Service{db, web, StackService("other", "db", Replicated(1))},
		Tasks:    []swarm.Task{old, RunningTask(db, 1, "w1", "c1"), RunningTask(web, 0, "w1", "c2"), RunningTask(web, 0, "w2", "c3")}}

	services, err := e.ServiceList(ctx, client.ServiceListOptions{Filters: client.Filters{}.Add("label", "com.docker.stack.namespace=shop")})
	if err != nil || len(services.Items) != 2 {
		t.Errorf("services of shop: %v, %v", services.Items, err)
	}
	ids := func(f client.Filters) []string {
		res, err := e.TaskList(ctx, client.TaskListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, t := range res.Items {
			out = append(out, t.ID)
		}
		return out
	}
	if got := ids(client.Filters{}.Add("desired-state", "running").Add("service", "shop_db", web.ID)); len(got) != 3 || slices.Contains(got, "old") {
		t.Errorf("running tasks of db (by name) and web (by ID): %v", got)
	}
	if got := ids(client.Filters{}.Add("node", "w2")); len(got) != 2 {
		t.Errorf("tasks on w2: %v", got)
	}
	if _, err := e.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("label", "x")}); err == nil {
		t.Error("an unsupported filter was ignored")
	}
	if nodes, err := e.NodeList(ctx, client.NodeListOptions{}); err != nil || len(nodes.Items) != 1 {
		t.Errorf("nodes: %v, %v", nodes.Items, err)
	}
	e.Fail("node-list", cerrdefs.ErrInternal)
	if _, err := e.NodeList(ctx, client.NodeListOptions{}); !cerrdefs.IsInternal(err) {
		t.Errorf("injected failure: %v", err)
	}
}
