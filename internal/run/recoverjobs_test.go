package run

import (
	"context"
	"slices"
	"testing"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// On a swarm stack, recovery removes a dead run's jobs and secrets, and only those:
// this run's, another project's and the stack's own services stay; the dead run's
// locks are then cleared as for a dead run's helpers.
func TestRecoverDeadJobs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	job := func(id, name string, labels map[string]string) swarm.Service {
		return swarm.Service{ID: id, Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}}}
	}
	other := helperLabels("dead000009", "files", "backup")
	other[helper.LabelProject] = "other"
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true, Services: []swarm.Service{
		job("s-dead", "shop-backup-files-dead", helperLabels("dead000001", "files", "backup")),
		job("s-ours", "shop-backup-files-ours", helperLabels("live000001", "files", "backup")),
		job("s-other", "other-backup-files", other),
		enginetest.StackService("shop", "files", enginetest.Replicated(1)),
	}}
	for name, labels := range map[string]map[string]string{
		"shop-backup-files-dead-0": helperLabels("dead000001", "files", "backup"),
		"shop-backup-files-ours-0": helperLabels("live000001", "files", "backup"),
	} {
		if _, err := f.eng.SecretCreate(ctx, client.SecretCreateOptions{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}}}); err != nil {
			t.Fatal(err)
		}
	}
	r := f.newRun("live000001")
	r.swarm = true
	dead, err := r.recoverDead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dead, []string{"dead000001"}) {
		t.Errorf("dead runs %q, want dead000001", dead)
	}
	var left []string
	for _, s := range f.eng.Swarm.Services {
		left = append(left, s.ID)
	}
	if !slices.Equal(left, []string{"s-ours", "s-other", "svc-shop_files"}) {
		t.Errorf("services left %q", left)
	}
	secrets, _ := f.eng.SecretList(ctx, client.SecretListOptions{})
	if len(secrets.Items) != 1 || secrets.Items[0].Spec.Name != "shop-backup-files-ours-0" {
		t.Errorf("secrets left %+v", secrets.Items)
	}
}
