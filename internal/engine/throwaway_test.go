package engine_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

var drillLabels = map[string]string{"io.docker-backup.kind": "verify", "io.docker-backup.run": "r1"}

// dbService is a running compose service container with a bit of everything.
func dbService() enginetest.Seed {
	s := enginetest.ServiceContainer("db1", "shop", "db", true)
	stop := 30
	init := true
	s.ImageID = "sha256:0123abcd"
	s.Config = &container.Config{
		Image:       "postgres:16",
		Entrypoint:  []string{"docker-entrypoint.sh"},
		Cmd:         []string{"postgres", "-c", "fsync=off"},
		Env:         []string{"POSTGRES_PASSWORD=live-secret", "PGDATA=/var/lib/postgresql/data", "LANG=C"},
		User:        "postgres",
		WorkingDir:  "/srv",
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "pg_isready"}},
		StopSignal:  "SIGINT",
		StopTimeout: &stop,
	}
	s.HostConfig = &container.HostConfig{
		NetworkMode:   "shop_default",
		PortBindings:  network.PortMap{network.MustParsePort("5432/tcp"): {{HostPort: "5432"}}},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways},
		Tmpfs:         map[string]string{"/run": "size=64m"},
		ShmSize:       256 << 20,
		Resources:     container.Resources{Memory: 512 << 20, NanoCPUs: 1e9},
		Init:          &init,
		CapAdd:        []string{"SYS_NICE"},
		CapDrop:       []string{"NET_RAW"},
		Binds:         []string{"/srv/shop/init:/docker-entrypoint-initdb.d:ro"},
	}
	s.Mounts = []mount.Mount{
		{Type: mount.TypeVolume, Source: "shop_data", Target: "/var/lib/postgresql/data"},
		{Type: mount.TypeBind, Source: "/srv/shop/logs", Target: "/var/log/postgresql"},
		{Type: mount.TypeBind, Source: "/srv/shop/pg.conf", Target: "/etc/postgresql/pg.conf", ReadOnly: true},
		{Type: mount.TypeTmpfs, Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}},
	}
	return s
}

func TestCreateThrowawayClonesTheService(t *testing.T) {
	ctx := context.Background()
	api := enginetest.New(t)
	api.AddVolume("shop_data", nil)
	api.AddContainer(dbService())

	id, vols, err := engine.CreateThrowaway(ctx, api, engine.ThrowawaySpec{
		From: "db1", Name: "shop-verify-db", Labels: drillLabels, Env: []string{"POSTGRES_PASSWORD=drill", "EXTRA=1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := api.Container(id)
	if !ok || c.Name != "shop-verify-db" || !c.Running() {
		t.Fatalf("throwaway container %+v (found %v), want it running as shop-verify-db", c, ok)
	}
	cfg, hc := c.Config, c.HostConfig
	if cfg.Image != "sha256:0123abcd" {
		t.Errorf("image %q, want the service's image ID", cfg.Image)
	}
	if !maps.Equal(cfg.Labels, drillLabels) {
		t.Errorf("labels %v, want only ours %v", cfg.Labels, drillLabels)
	}
	wantEnv := []string{"POSTGRES_PASSWORD=drill", "PGDATA=/var/lib/postgresql/data", "LANG=C", "EXTRA=1"}
	if !slices.Equal(cfg.Env, wantEnv) {
		t.Errorf("env %q, want %q", cfg.Env, wantEnv)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"docker-entrypoint.sh"}) || !slices.Equal(cfg.Cmd, []string{"postgres", "-c", "fsync=off"}) ||
		cfg.User != "postgres" || cfg.WorkingDir != "/srv" || cfg.StopSignal != "SIGINT" || cfg.StopTimeout == nil || *cfg.StopTimeout != 30 ||
		cfg.Healthcheck == nil || !slices.Equal(cfg.Healthcheck.Test, []string{"CMD", "pg_isready"}) {
		t.Errorf("config not cloned: %+v", cfg)
	}
	if hc.NetworkMode != "none" || len(hc.PortBindings) > 0 || hc.RestartPolicy.Name != "" || hc.Privileged {
		t.Errorf("network %q, ports %v, restart %q, privileged %v: want none, none, none, false", hc.NetworkMode, hc.PortBindings, hc.RestartPolicy.Name, hc.Privileged)
	}
	if hc.Tmpfs["/run"] != "size=64m" || hc.ShmSize != 256<<20 || hc.Memory != 512<<20 || hc.NanoCPUs != 1e9 ||
		hc.Init == nil || !*hc.Init || !slices.Equal(hc.CapAdd, []string{"SYS_NICE"}) || !slices.Equal(hc.CapDrop, []string{"NET_RAW"}) {
		t.Errorf("host config not cloned: %+v", hc)
	}
	if len(hc.Binds) > 0 {
		t.Errorf("binds %v: every mount should be in Mounts", hc.Binds)
	}

	wantVols := []string{"shop-verify-db-var-lib-postgresql-data", "shop-verify-db-var-log-postgresql"}
	if !slices.Equal(vols, wantVols) {
		t.Errorf("volumes %v, want %v", vols, wantVols)
	}
	for _, v := range wantVols {
		if got, ok := api.Volume(v); !ok || !maps.Equal(got.Labels, drillLabels) {
			t.Errorf("volume %s: %+v (exists %v), want our labels", v, got, ok)
		}
	}
	byTarget := map[string]mount.Mount{}
	for _, m := range hc.Mounts {
		byTarget[m.Target] = m
	}
	for target, want := range map[string]mount.Mount{
		"/var/lib/postgresql/data":    {Type: mount.TypeVolume, Source: wantVols[0]},
		"/var/log/postgresql":         {Type: mount.TypeVolume, Source: wantVols[1]},
		"/etc/postgresql/pg.conf":     {Type: mount.TypeBind, Source: "/srv/shop/pg.conf", ReadOnly: true},
		"/docker-entrypoint-initdb.d": {Type: mount.TypeBind, Source: "/srv/shop/init", ReadOnly: true},
		"/tmp":                        {Type: mount.TypeTmpfs},
	} {
		got, ok := byTarget[target]
		if !ok || got.Type != want.Type || got.Source != want.Source || got.ReadOnly != want.ReadOnly {
			t.Errorf("mount at %s: %+v (present %v), want %+v", target, got, ok, want)
		}
	}
	if m := byTarget["/tmp"]; m.TmpfsOptions == nil || m.TmpfsOptions.SizeBytes != 1<<20 {
		t.Errorf("tmpfs at /tmp lost its options: %+v", m)
	}
	if len(hc.Mounts) != 5 {
		t.Errorf("mounts %+v, want 5", hc.Mounts)
	}

	// The live service is left alone.
	if got := api.CallsWith("stop", "kill", "exec", "remove"); len(got) > 0 {
		t.Errorf("calls %v touch containers", got)
	}
	if live, _ := api.Container("db1"); !live.Running() {
		t.Error("the service container no longer runs")
	}

	if err := engine.RemoveThrowaway(ctx, api, id, vols); err != nil {
		t.Fatal(err)
	}
	if _, ok := api.Container(id); ok {
		t.Error("the throwaway container is still there")
	}
	if got := api.VolumeNames(); !slices.Equal(got, []string{"shop_data"}) {
		t.Errorf("volumes %v after removal, want only the service's", got)
	}
	// Removing again: what is gone is not an error.
	if err := engine.RemoveThrowaway(ctx, api, id, vols); err != nil {
		t.Errorf("second removal: %v", err)
	}
}

func TestCreateThrowawayLeavesNothingOnFailure(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name, fail string
		wantCalls  []string
	}{
		{"inspect", "inspect db1", nil},
		{"second volume", "volume-create shop-verify-db-var-log-postgresql", []string{
			"volume-create shop-verify-db-var-lib-postgresql-data", "volume-create shop-verify-db-var-log-postgresql",
			"volume-remove shop-verify-db-var-lib-postgresql-data",
		}},
		{"create", "create shop-verify-db", []string{
			"volume-create shop-verify-db-var-lib-postgresql-data", "volume-create shop-verify-db-var-log-postgresql",
			"create shop-verify-db",
			"volume-remove shop-verify-db-var-lib-postgresql-data", "volume-remove shop-verify-db-var-log-postgresql",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := enginetest.New(t)
			api.AddVolume("shop_data", nil)
			api.AddContainer(dbService())
			api.Fail(tc.fail, boom)
			id, vols, err := engine.CreateThrowaway(ctx, api, engine.ThrowawaySpec{From: "db1", Name: "shop-verify-db", Labels: drillLabels})
			if !errors.Is(err, boom) || id != "" || vols != nil {
				t.Fatalf("CreateThrowaway: %q, %v, %v; want boom and nothing", id, vols, err)
			}
			if !strings.Contains(err.Error(), "db1") {
				t.Errorf("error %q does not name the container", err)
			}
			if got := api.Calls(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("calls %q, want %q", got, tc.wantCalls)
			}
			if got := api.VolumeNames(); !slices.Equal(got, []string{"shop_data"}) {
				t.Errorf("volumes %v left", got)
			}
			if n := len(api.Containers()); n != 1 {
				t.Errorf("%d containers, want only the service's", n)
			}
		})
	}
}

func TestCreateThrowawayRemovesAContainerThatDidNotStart(t *testing.T) {
	api := enginetest.New(t)
	api.AddVolume("shop_data", nil)
	api.AddContainer(dbService())
	api.Fail("start shop-verify-db", errors.New("no such image"))
	if _, _, err := engine.CreateThrowaway(context.Background(), api, engine.ThrowawaySpec{From: "db1", Name: "shop-verify-db", Labels: drillLabels}); err == nil {
		t.Fatal("a throwaway that did not start was not an error")
	}
	if n := len(api.Containers()); n != 1 {
		t.Errorf("%d containers, want only the service's", n)
	}
	if got := api.VolumeNames(); !slices.Equal(got, []string{"shop_data"}) {
		t.Errorf("volumes %v left", got)
	}
}

func TestCreateThrowawayNeverSharesAVolume(t *testing.T) {
	api := enginetest.New(t)
	api.AddVolume("shop_data", nil)
	api.AddVolume("shop-verify-db-var-log-postgresql", map[string]string{"someone": "else"})
	api.AddContainer(dbService())
	_, _, err := engine.CreateThrowaway(context.Background(), api, engine.ThrowawaySpec{From: "db1", Name: "shop-verify-db", Labels: drillLabels})
	if !errors.Is(err, engine.ErrVolumeExists) {
		t.Fatalf("err %v, want ErrVolumeExists", err)
	}
	if got := api.VolumeNames(); !slices.Equal(got, []string{"shop-verify-db-var-log-postgresql", "shop_data"}) {
		t.Errorf("volumes %v, want the two that were there", got)
	}
}

func TestCreateThrowawayVolumeNames(t *testing.T) {
	api := enginetest.New(t)
	s := enginetest.ServiceContainer("app1", "shop", "app", true)
	long := "/opt/application/with/a/very/deeply/nested/folder/of/data"
	s.Mounts = []mount.Mount{
		{Type: mount.TypeVolume, Source: "a", Target: "/a/data"},
		{Type: mount.TypeVolume, Source: "b", Target: "/a-data"},
		{Type: mount.TypeVolume, Source: "c", Target: long},
		{Type: mount.TypeVolume, Source: "d", Target: "/"},
	}
	api.AddContainer(s)
	_, vols, err := engine.CreateThrowaway(context.Background(), api, engine.ThrowawaySpec{From: "app1", Name: "t", Labels: drillLabels})
	if err != nil {
		t.Fatal(err)
	}
	if len(vols) != 4 || vols[0] != "t-a-data" || !strings.HasPrefix(vols[1], "t-a-data-") || vols[3] != "t-root" {
		t.Errorf("volumes %q: want t-a-data, t-a-data-<hash>, …, t-root", vols)
	}
	if !strings.HasPrefix(vols[2], "t-") || len(vols[2]) > len("t-")+40 || !strings.Contains(vols[2], "of-data-") {
		t.Errorf("volume %q of a long target: want at most 40 characters after the prefix, ending in its last folders and a hash", vols[2])
	}
	if len(slices.Compact(slices.Sorted(slices.Values(vols)))) != len(vols) {
		t.Errorf("volumes %q are not distinct", vols)
	}
	t.Logf("volumes %q", vols)
}

// A password the service sets, itself or through its _FILE variant, is a new random one
// in the copy; the live one is nowhere in it.
func TestCreateThrowawayReplacesPasswords(t *testing.T) {
	api := enginetest.New(t)
	api.AddVolume("shop_data", nil)
	s := dbService()
	s.Config.Env = append(s.Config.Env, "MARIADB_ROOT_PASSWORD_FILE=/run/secrets/root")
	api.AddContainer(s)
	_, _, err := engine.CreateThrowaway(context.Background(), api, engine.ThrowawaySpec{
		From: "db1", Name: "shop-verify-db", Labels: drillLabels,
		Passwords: []string{"POSTGRES_PASSWORD", "MARIADB_ROOT_PASSWORD", "REDIS_PASSWORD"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := api.Container("shop-verify-db")
	env := strings.Join(c.Config.Env, "\n")
	for _, want := range []string{"POSTGRES_PASSWORD=", "MARIADB_ROOT_PASSWORD=", "MARIADB_ROOT_PASSWORD_FILE=\n"} {
		if !strings.Contains(env+"\n", want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(env, "live-secret") || strings.Contains(env, "/run/secrets/root") || strings.Contains(env, "REDIS_PASSWORD") {
		t.Errorf("the copy's env keeps a live password or sets an unset one:\n%s", env)
	}
}

// Sockets, the folders that hold an engine's socket and devices stay out of the copy,
// read-only or not: from network none, the engine's socket would still drive the engine
// and reach the live service. Plain read-only binds (configuration) stay.
func TestCreateThrowawayDropsSocketsAndDevices(t *testing.T) {
	api := enginetest.New(t)
	s := enginetest.ServiceContainer("app1", "shop", "app", true)
	s.Mounts = []mount.Mount{
		{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/run/user/1000/docker.sock", Target: "/engine"},
		{Type: mount.TypeBind, Source: "/srv/app/agent.sock", Target: "/run/agent", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/srv/app/sockets", Target: "/sockets/app.sock"},
		{Type: mount.TypeBind, Source: "/var/run", Target: "/host/run", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/run/user/1000", Target: "/xdg", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/dev/fuse", Target: "/dev/fuse"},
		{Type: mount.TypeBind, Source: "/dev/snd", Target: "/dev/snd", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/srv/app/app.conf", Target: "/etc/app.conf", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/srv/app/run/user", Target: "/etc/users", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/srv/app/data", Target: "/data"},
	}
	api.AddContainer(s)
	id, vols, err := engine.CreateThrowaway(context.Background(), api, engine.ThrowawaySpec{From: "app1", Name: "t", Labels: drillLabels})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := api.Container(id)
	var got []string
	for _, m := range c.HostConfig.Mounts {
		got = append(got, fmt.Sprintf("%s %s:%s ro=%v", m.Type, m.Source, m.Target, m.ReadOnly))
	}
	want := []string{
		"bind /srv/app/app.conf:/etc/app.conf ro=true",
		"bind /srv/app/run/user:/etc/users ro=true",
		"volume t-data:/data ro=false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the copy's mounts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(vols, []string{"t-data"}) {
		t.Errorf("volumes %q, want t-data only: a dropped socket gets no volume either", vols)
	}
}
