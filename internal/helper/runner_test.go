package helper

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/restic"
)

func TestHelperSpecKeepsSecretsOutOfArgvAndEnv(t *testing.T) {
	c := &Runner{Image: "restic/restic:0.18.1", Project: "shop", Repo: Repo{
		URL: "s3:https://user:urlsecret@s3.example/bucket", Password: []byte("hunter2"),
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDSECRET", "AWS_SECRET_ACCESS_KEY": "topsecret", "AWS_DEFAULT_REGION": "eu-west-1",
			"B2_ACCOUNT_KEY": "b2val'QZX", "B2_ACCOUNT_ID": "b2id",
			// Not on composeext's list of harmless settings: a secret, whatever its name says.
			"RESTIC_SOME_NEW_OPTION": "newval", "AZURE_ACCOUNT_KEY": "azkey"},
	}}
	spec := c.helperSpec(restic.Invocation{Args: []string{"snapshots", "--json"}, Kind: "snapshots"})
	visible := strings.Join(append(append(spec.Cmd, spec.Env...), spec.Name, spec.Hostname), " ")
	for k, v := range spec.Labels {
		visible += " " + k + "=" + v
	}
	visible += " " + strings.Join(spec.Entrypoint, " ")
	for _, secret := range []string{"hunter2", "AKIDSECRET", "topsecret", "urlsecret", "QZX", "newval", "azkey"} {
		if strings.Contains(visible, secret) {
			t.Errorf("secret %q is visible in the helper's argv, env, name or labels: %s", secret, visible)
		}
	}
	for _, harmless := range []string{"AWS_DEFAULT_REGION=eu-west-1", "B2_ACCOUNT_ID=b2id"} {
		if !slices.Contains(spec.Env, harmless) {
			t.Errorf("non-secret backend setting %s should stay in the environment: %v", harmless, spec.Env)
		}
	}
	var files []string
	for _, f := range spec.Files {
		files = append(files, f.Path+"="+string(f.Data))
		if f.Mode != 0o400 {
			t.Errorf("file %s has mode %o, want 0400", f.Path, f.Mode)
		}
	}
	joined := strings.Join(files, "\n")
	for _, want := range []string{"hunter2", "urlsecret", "aws_secret_access_key = topsecret", `"B2_ACCOUNT_KEY":"b2val'QZX"`,
		`"RESTIC_SOME_NEW_OPTION":"newval"`, `"AZURE_ACCOUNT_KEY":"azkey"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("the helper's files lack %q", want)
		}
	}
	// restic reads those settings only from its environment: the agent sets them from
	// the file, with no shell in the image.
	if !slices.Equal(spec.Entrypoint, ResticEntrypoint) || !slices.ContainsFunc(spec.Files, func(f engine.File) bool { return f.Path == agent.EnvFile }) {
		t.Errorf("entrypoint %q does not run restic through the agent with %s", spec.Entrypoint, agent.EnvFile)
	}
	if !slices.Equal(spec.Cmd, []string{"snapshots", "--json"}) {
		t.Errorf("cmd %v", spec.Cmd)
	}
}

func TestHelperSpecWithoutSecretSettingsHasNoEnvFile(t *testing.T) {
	c := &Runner{Image: "restic", Project: "shop", Repo: Repo{URL: "/srv/backups", Local: true, Password: []byte("pw"), Env: map[string]string{"RESTIC_COMPRESSION": "max"}}}
	spec := c.helperSpec(restic.Invocation{Args: []string{"check"}, Kind: "check"})
	if slices.ContainsFunc(spec.Files, func(f engine.File) bool { return f.Path == agent.EnvFile }) {
		t.Errorf("files %v: no secret settings, so no %s", spec.Files, agent.EnvFile)
	}
	if !slices.Contains(spec.Env, "RESTIC_COMPRESSION=max") {
		t.Errorf("env %v", spec.Env)
	}
}

func TestHelperSpecIdentity(t *testing.T) {
	for _, tc := range []struct {
		runID, hostname string
	}{
		{"0123456789", "docker-backup-0123456789"},
		{"", "docker-backup"}, // a read-only command's helper belongs to no run
	} {
		c := &Runner{Image: "restic", Project: "shop", RunID: tc.runID, Repo: Repo{URL: "s3:host/bucket", Password: []byte("pw")}}
		spec := c.helperSpec(restic.Invocation{Args: []string{"backup"}, Service: "db", Kind: "dump"})
		if spec.Hostname != tc.hostname || !spec.Init {
			t.Errorf("run %q: hostname %q, init %v; want %q under init", tc.runID, spec.Hostname, spec.Init, tc.hostname)
		}
		want := map[string]string{LabelHelper: "true", LabelProject: "shop", LabelService: "db", LabelKind: "dump", LabelRepository: Repo{URL: "s3:host/bucket"}.ID()}
		if tc.runID != "" {
			want[LabelRun] = tc.runID
		}
		if len(spec.Labels) != len(want) {
			t.Errorf("run %q: labels %v, want %v", tc.runID, spec.Labels, want)
		}
		for k, v := range want {
			if spec.Labels[k] != v {
				t.Errorf("run %q: label %s = %q, want %q", tc.runID, k, spec.Labels[k], v)
			}
		}
		if !strings.HasPrefix(spec.Name, "shop-backup-db-") {
			t.Errorf("name %q", spec.Name)
		}
	}
}

func TestHelperSpecMountsAndRetryLock(t *testing.T) {
	c := &Runner{Image: "restic", Project: "shop", Repo: Repo{URL: "/srv/backups", Local: true, Password: []byte("pw")},
		Network: "host", RetryLock: 5 * time.Minute}
	spec := c.helperSpec(restic.Invocation{Args: []string{"backup", "--json"}, Kind: "backup",
		Mounts: []restic.Mount{{Type: "volume", Source: "shop_data", Target: "/backup/files/data", ReadOnly: true}}})
	want := []mount.Mount{
		{Type: mount.TypeBind, Source: "/srv/backups", Target: "/repo"},
		{Type: mount.TypeVolume, Source: DefaultCacheVolume, Target: "/cache"},
		{Type: mount.TypeTmpfs, Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{Mode: 0o1777}},
		{Type: mount.TypeVolume, Source: "shop_data", Target: "/backup/files/data", ReadOnly: true},
	}
	if len(spec.Mounts) != len(want) {
		t.Fatalf("mounts %+v, want %+v", spec.Mounts, want)
	}
	for i := range want {
		got := spec.Mounts[i]
		if got.Type != want[i].Type || got.Source != want[i].Source || got.Target != want[i].Target || got.ReadOnly != want[i].ReadOnly {
			t.Errorf("mount %d: %+v, want %+v", i, got, want[i])
		}
	}
	if i := slices.IndexFunc(spec.Files, func(f engine.File) bool { return f.Path == repositoryFile }); i < 0 || string(spec.Files[i].Data) != "/repo\n" {
		t.Errorf("a local repository is read at /repo: files %v", spec.Files)
	}
	if !slices.Equal(spec.Cmd, []string{"backup", "--retry-lock", "5m0s", "--json"}) || spec.NetworkMode != "host" {
		t.Errorf("cmd %v, network %q", spec.Cmd, spec.NetworkMode)
	}
	c.CacheVolume = "mycache"
	if m := c.helperSpec(restic.Invocation{Args: []string{"check"}}).Mounts[1]; m.Source != "mycache" {
		t.Errorf("cache mount %+v, want mycache", m)
	}
}

func TestRunnerRunsResticInAHelper(t *testing.T) {
	f := newFixture(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: `[{"id":"abc","short_id":"abc","hostname":"shop@m1"}]`})
	r := f.runner()
	snaps, err := restic.Snapshots(context.Background(), r, restic.SnapshotFilter{Hosts: []string{"shop@m1"}})
	if err != nil || len(snaps) != 1 || snaps[0].ID != "abc" {
		t.Fatalf("snapshots %+v, %v", snaps, err)
	}
	call := f.rst.Calls()[0]
	if call.Helper.Files[passwordFile] != "hunter2" || call.Env("RESTIC_PASSWORD_FILE") != passwordFile {
		t.Errorf("the password reached the helper as %v, env %v", call.Helper.Files, call.Helper.Config.Env)
	}
	for _, c := range f.eng.Created() {
		if !c.Removed {
			t.Errorf("helper %s was not removed", c.Name)
		}
	}

	f.rst.Reply("forget", enginetest.Reply{Stderr: lockedMessage, Code: 11})
	_, err = restic.Forget(context.Background(), r, restic.ForgetOptions{IDs: []string{"abc"}})
	if !errors.Is(err, restic.ErrLocked) || !strings.Contains(err.Error(), "PID 7 on host docker-backup-abc") {
		t.Errorf("err %v, want ErrLocked naming the holder", err)
	}
}

func TestUnlockerRunsAsTheDeadRun(t *testing.T) {
	f := newFixture(t)
	r := f.runner()
	r.RunID = "cur0000001"
	if err := restic.Unlock(context.Background(), r.ForDeadRun("dead000001")); err != nil {
		t.Fatal(err)
	}
	calls := f.rst.Calls()
	if len(calls) != 1 || calls[0].String() != "unlock" {
		t.Fatalf("restic ran %v, want one unlock", f.rst.Commands())
	}
	h := calls[0].Helper
	if h.Config.Hostname != "docker-backup-dead000001" || h.HostConfig.Init == nil || *h.HostConfig.Init {
		t.Errorf("unlock ran as %q with init %v, want the dead run's hostname with restic as PID 1", h.Config.Hostname, h.HostConfig.Init)
	}
	if h.Labels()[LabelRun] != "cur0000001" {
		t.Errorf("unlock helper labels %v, want the current run's", h.Labels())
	}
}

// A folder the engine may create comes as a bind in the Binds form (every engine version
// creates its host path); one with a colon, which that form cannot hold, as a mount that
// asks for it (engines from API 1.44). Otherwise the folder must exist.
func TestHelperSpecRepositoryFolder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		repo   Repo
		binds  []string
		create bool
	}{
		{"must exist", Repo{URL: "/srv/backups", Local: true}, nil, false},
		{"created", Repo{URL: "/srv/backups", Local: true, CreateFolder: true}, []string{"/srv/backups:/repo"}, false},
		{"created, with a colon", Repo{URL: "/srv/a:b", Local: true, CreateFolder: true}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Runner{Image: "restic", Project: "shop", Repo: tc.repo}
			spec := c.helperSpec(restic.Invocation{Args: []string{"init"}, Kind: "init"})
			if !slices.Equal(spec.Binds, tc.binds) {
				t.Errorf("binds %q, want %q", spec.Binds, tc.binds)
			}
			var repoMounts int
			for _, m := range spec.Mounts {
				if m.Source != tc.repo.URL {
					continue
				}
				repoMounts++
				if got := m.BindOptions != nil && m.BindOptions.CreateMountpoint; got != tc.create {
					t.Errorf("mount %+v: CreateMountpoint %v, want %v", m, got, tc.create)
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tc.binds != nil]; repoMounts != want {
				t.Errorf("%d mount(s) of the repository, want %d", repoMounts, want)
			}
		})
	}
}

// A job's name, and its secrets' (<name>-<i>), fit swarm's 64 characters whatever the
// project's name.
func TestJobNameFitsSwarm(t *testing.T) {
	for _, project := range []string{"p", strings.Repeat("long-project-name", 5)} {
		if n := jobName(project, "files-preflight") + "-10"; len(n) > 64 {
			t.Errorf("%s: %d characters", n, len(n))
		}
	}
}
