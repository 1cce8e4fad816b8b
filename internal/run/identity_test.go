package run

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/snapshot"
)

func TestIdentify(t *testing.T) {
	api := enginetest.New(t)
	api.SystemInfo = system.Info{Name: "nas.local", ID: "ABCD:EFGH"}
	id, err := Identify(context.Background(), api, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	if id.Project != "shop" || !strings.HasPrefix(id.Machine, "nas.local-") || len(id.Machine) != len("nas.local-")+6 {
		t.Errorf("identity %+v, want machine nas.local-<6 hex digits>", id)
	}
	again, _ := Identify(context.Background(), api, "shop", "")
	if again != id {
		t.Errorf("identity changed from %+v to %+v", id, again)
	}
	// x-backup.host names the machine; the engine is not asked.
	api.Fail("info", context.DeadlineExceeded)
	if got, err := Identify(context.Background(), api, "shop", "prod"); err != nil || got != (snapshot.Identity{Project: "shop", Machine: "prod"}) {
		t.Errorf("identity %+v, %v", got, err)
	}
	if _, err := Identify(context.Background(), api, "shop", ""); err == nil {
		t.Error("an engine that does not answer gave an identity")
	}
}

func TestMachineName(t *testing.T) {
	for _, tc := range []struct{ name, prefix string }{
		{"host1", "host1-"},
		{"my host/with:chars", "my-host-with-chars-"},
		{"--", "engine-"},
		{"", "engine-"},
	} {
		got := machineName(engine.EngineInfo{Name: tc.name, ID: "id"})
		if !strings.HasPrefix(got, tc.prefix) || len(got) != len(tc.prefix)+6 {
			t.Errorf("machineName(%q) = %q, want %s<6 hex digits>", tc.name, got, tc.prefix)
		}
	}
	a := machineName(engine.EngineInfo{Name: "h", ID: "one"})
	b := machineName(engine.EngineInfo{Name: "h", ID: "two"})
	if a == b {
		t.Errorf("two engines of one host name share the machine name %q", a)
	}
}
