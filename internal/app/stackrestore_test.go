package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/restore"
)

// restore on a stack refuses what up refuses on any stack (here a folder repository)
// with one line naming the file and key, before anything runs; --node on a compose
// project is a usage error.
func TestStackRestoreRefused(t *testing.T) {
	ctx := context.Background()
	f := stackFixture(t)
	_, err := f.app.Restore(ctx, RestoreOptions{Load: f.load(), Targets: []restore.Target{{Service: "cache"}}}, f.sink())
	if err == nil || !strings.HasPrefix(err.Error(), "compose.yaml: x-backup.repository: ") || !errors.Is(err, composeext.ErrInvalid) {
		t.Fatalf("restore on a stack with a folder repository: %v", err)
	}
	if c := f.eng.CallsWith("create", "service-create", "secret-create", "volume-create", "service-update"); len(c) > 0 {
		t.Errorf("a refused restore made %v", c)
	}

	g := newFixture(t)
	_, err = g.app.Restore(ctx, RestoreOptions{Load: g.load(), Node: "worker-2", Targets: []restore.Target{{Service: "app"}}}, g.sink())
	if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--node") {
		t.Fatalf("restore --node of a compose project: %v", err)
	}
}

// restorePlacements places a service on the node of its task, or on the node named;
// a service without a running task needs --node.
func TestStackRestorePlacements(t *testing.T) {
	f, _ := stackS3Fixture(t)
	ctx := context.Background()
	st, err := engine.FindStack(ctx, f.eng, "shop")
	if err != nil || st == nil {
		t.Fatalf("stack: %v %v", st, err)
	}
	runner := &helper.Runner{API: f.eng, Project: "shop", Repo: helper.Repo{URL: "s3:http://minio.example:9000/backups/shop"}}
	cache := composeext.ServicePlan{Name: "cache", Strategy: composeext.StrategyVolumes,
		Volumes: []composeext.Mount{{Key: "cache", Type: "volume", Source: "shop_cache", Path: "/data"}}}
	p := restorePlacements(st, runner, nil)(cache)
	if p.Refused != "" || p.Node != "w2node0000000000000000000" || p.NodeName != "worker-2" || p.ServiceName != "shop_cache" || p.Agent == nil || p.Runner == nil {
		t.Errorf("cache placed %+v, want on worker-2", p)
	}
	w1 := st.Manager
	w1.ID, w1.Hostname = "w1node0000000000000000000", "worker-1"
	if p := restorePlacements(st, runner, &w1)(cache); p.Node != w1.ID || p.Refused != "" {
		t.Errorf("cache with --node worker-1 placed %+v", p)
	}
	setService(f, enginetest.StackService("shop", "cache", enginetest.Replicated(1), enginetest.VolumeMount("shop_cache", "/data")))
	st, _ = engine.FindStack(ctx, f.eng, "shop")
	if p := restorePlacements(st, runner, nil)(cache); !strings.Contains(p.Refused, "has no running task: name the node to restore its volumes on with --node") {
		t.Errorf("cache without a task: %+v", p)
	}
}
