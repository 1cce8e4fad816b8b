package run

import (
	"context"
	"testing"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// On a stack, a dead run's jobs and secrets are leftovers, named with the run; the
// stack's own services, another project's jobs and kept ones are not.
func TestFindStackLeftovers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	job := func(id string, labels map[string]string) swarm.Service {
		return swarm.Service{ID: id, Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: id, Labels: labels}}}
	}
	other := helperLabels("dead000009", "files", "backup")
	other[helper.LabelProject] = "other"
	kept := helperLabels("dead000003", "files", "backup")
	kept[helper.LabelKept] = "true"
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{
		enginetest.StackService("shop", "files", enginetest.Replicated(1)),
		job("s-other", other), job("s-kept", kept),
	}}
	left, err := FindStackLeftovers(ctx, f.eng, "shop")
	if err != nil || !left.Empty() {
		t.Fatalf("nothing left: got %+v, %v", left, err)
	}
	f.eng.Swarm.Services = append(f.eng.Swarm.Services, job("s-dead", helperLabels("dead000001", "files", "backup")))
	if _, err := f.eng.SecretCreate(ctx, client.SecretCreateOptions{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{
		Name: "shop-backup-files-dead-0", Labels: helperLabels("dead000001", "files", "backup")}}}); err != nil {
		t.Fatal(err)
	}
	left, err = FindStackLeftovers(ctx, f.eng, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := "a dead run (run dead000001) of project shop left 1 swarm job: the next docker backup up, restore, verify or forget of the project removes it"
	if left.Jobs != 1 || left.Message() != want {
		t.Errorf("got %+v:\n%s\nwant\n%s", left, left.Message(), want)
	}
}
