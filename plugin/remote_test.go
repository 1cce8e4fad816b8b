package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/run"
)

// fakeDocker is the shared fake engine as the commands' client; asking it for its
// version panics.
type fakeDocker struct {
	*enginetest.Engine
	engine.VersionAPI
}

// remoteFixture is a project shop whose engine is at tcp://prod:2375: its helpers run the
// fake restic and its anchors read their input to the end.
type remoteFixture struct {
	dir      string
	eng      *enginetest.Engine
	rst      *enginetest.Restic
	out, err bytes.Buffer
	d        *deps
}

const remoteEndpoint = "tcp://prod:2375"

func newRemoteFixture(t *testing.T, compose string, environ ...string) *remoteFixture {
	f := &remoteFixture{dir: writeCompose(t, compose), eng: enginetest.New(t), rst: enginetest.NewRestic()}
	f.eng.SystemInfo = system.Info{ID: "engine-id", Name: "prod"}
	f.eng.Program = func(p *enginetest.Process) int {
		if p.Config.Labels[helper.LabelKind] == helper.KindAnchor {
			return enginetest.Cat(p)
		}
		return f.rst.Program(p)
	}
	f.d = &deps{
		streams: Streams{In: strings.NewReader(""), Out: &f.out, Err: &f.err},
		// A prebuilt helper image: the fake engine cannot build one.
		environ: append(environ, "DOCKER_BACKUP_AGENT_IMAGE=docker-backup:test"), workdir: f.dir,
		dockerClient: func() (dockerAPI, error) { return fakeDocker{Engine: f.eng}, nil },
		engineLocation: func() (app.Location, error) {
			return app.LocateEndpoint(remoteEndpoint), nil
		},
	}
	return f
}

// run runs the command line as the docker CLI would hand it over.
func (f *remoteFixture) run(args ...string) error {
	return runApp(context.Background(), append([]string{"-H", remoteEndpoint, "backup"}, args...), f.d)
}

// A relative repository with a remote engine, the default included, is refused with
// one line naming where it was given, before any helper runs or anything is created.
func TestRemoteEngineRefusesARelativeRepository(t *testing.T) {
	const hint = `is relative, but the engine (tcp://prod:2375) is on another machine: give an absolute path on the engine's host ` +
		`(e.g. /srv/backups/shop) or a remote backend (s3:…, sftp:…, rest:…)`
	for _, tc := range []struct {
		name    string
		compose string
		environ []string
		args    []string
		want    string
	}{
		{"default", "name: shop\nservices:\n  db:\n    image: postgres\n    x-backup: postgres\n", nil, []string{"up"},
			`compose.yaml: x-backup.repository: the default "./backups" ` + hint},
		{"key", "name: shop\nx-backup:\n  repository: ./backups\n  password_file: pw\nservices:\n  db:\n    image: postgres\n    x-backup: postgres\n",
			nil, []string{"up"}, `compose.yaml: x-backup.repository: "./backups" ` + hint},
		{"flag", "name: shop\nx-backup:\n  password_file: pw\nservices:\n  db:\n    image: postgres\n    x-backup: postgres\n",
			nil, []string{"init", "--repo", "store"}, `--repo: "store" ` + hint},
		{"environment", "name: shop\nx-backup:\n  password_file: pw\nservices:\n  db:\n    image: postgres\n    x-backup: postgres\n",
			[]string{"DOCKER_BACKUP_REPOSITORY=../store"}, []string{"restore", "db", "--yes"}, `DOCKER_BACKUP_REPOSITORY: "../store" ` + hint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRemoteFixture(t, tc.compose, tc.environ...)
			err := f.run(tc.args...)
			if code := exitCode(context.Background(), err); code != ExitUsage || err.Error() != tc.want {
				t.Fatalf("exit %d, err:\n%v\nwant exit 2 and:\n%s", code, err, tc.want)
			}
			if created := f.eng.Created(); len(created) > 0 {
				t.Errorf("%d container(s) created, want none", len(created))
			}
			for _, p := range []string{"backups", "backups.key", "store"} {
				if _, err := os.Stat(filepath.Join(f.dir, p)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s was created on this machine", p)
				}
			}
		})
	}
}

// remoteCompose has its repository on the engine's host at REPO and its password in a
// file on this machine.
const remoteCompose = `name: shop
x-backup:
  repository: REPO
  password_file: restic.pw
services:
  app:
    image: example/app
    volumes: [.:/app]
    x-backup: true
`

// init with a remote engine has the engine create the repository's folder on its host;
// this machine gets none, and the password reaches the helpers as a file only.
func TestInitOnARemoteEngineCreatesTheFolderThere(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "engine-host", "backups") // a path this machine does not have
	f := newRemoteFixture(t, strings.Replace(remoteCompose, "REPO", repo, 1))
	if err := os.WriteFile(filepath.Join(f.dir, "restic.pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.eng.HostPaths = map[string]bool{}
	f.rst.Reply("cat", enginetest.Reply{Stderr: "Fatal: repository does not exist: unable to open config file", Code: 10})
	if err := f.run("init"); err != nil {
		t.Fatalf("init: %v\n%s", err, f.err.String())
	}
	want := "created repository " + repo + " on the engine's host (tcp://prod:2375)\n"
	if f.out.String() != want {
		t.Errorf("stdout %q, want %q", f.out.String(), want)
	}
	if got := f.rst.Commands(); len(got) != 2 || !strings.HasPrefix(got[0], "cat config") || !strings.HasPrefix(got[1], "init") {
		t.Errorf("restic ran %q, want cat config, then init", got)
	}
	for _, c := range f.rst.Calls() {
		// The Binds form: it creates a missing folder on every engine version.
		if b := c.Helper.HostConfig.Binds; len(b) != 1 || b[0] != repo+":/repo" {
			t.Errorf("%s: binds %q, want the repository's folder as %s:/repo", c.Command(), b, repo)
		}
		for _, m := range c.Helper.HostConfig.Mounts {
			if m.Source == repo {
				t.Errorf("%s: the repository is also mounted as %+v", c.Command(), m)
			}
		}
		if c.Helper.Files["/run/docker-backup/password"] != "s3cret\n" {
			t.Errorf("%s: the password did not reach the helper as a file", c.Command())
		}
		for _, kv := range append(c.Helper.Config.Env, c.Helper.Config.Cmd...) {
			if strings.Contains(kv, "s3cret") {
				t.Errorf("%s: the password shows in argv or env: %q", c.Command(), kv)
			}
		}
	}
	if !f.eng.HostPaths[repo] {
		t.Errorf("the engine's host has no folder %s after init", repo)
	}
	if _, err := os.Stat(filepath.Dir(repo)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("init created %s on this machine", filepath.Dir(repo))
	}
}

// up never creates a folder on a remote engine's host (an unmounted disk must not be
// filled): the engine's refusal to mount it says the repository does not exist.
func TestUpOnARemoteEngineWithoutTheFolder(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "engine-host", "backups")
	f := newRemoteFixture(t, strings.Replace(remoteCompose, "REPO", repo, 1))
	if err := os.WriteFile(filepath.Join(f.dir, "restic.pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.eng.HostPaths = map[string]bool{}
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	err := f.run("up")
	var noRepo *run.ErrNoRepository
	want := "repository " + repo + " on the engine's host (tcp://prod:2375) does not exist (is its disk mounted?): create it with 'docker backup init'"
	if !errors.As(err, &noRepo) || err.Error() != want {
		t.Fatalf("err %v, want %q", err, want)
	}
	if len(f.rst.Calls()) != 0 {
		t.Errorf("restic ran %q, want no helper started", f.rst.Commands())
	}
	if c, _ := f.eng.Container("c1"); !c.Running() {
		t.Errorf("the service was stopped")
	}
	if len(f.eng.HostPaths) != 0 {
		t.Errorf("up created %v on the engine's host", f.eng.HostPaths)
	}
	if _, err := os.Stat(filepath.Dir(repo)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("up created %s on this machine", filepath.Dir(repo))
	}
}

// plan says on which machine a folder repository is; a remote backend shows as before.
func TestPlanSaysWhereTheRepositoryIs(t *testing.T) {
	for _, tc := range []struct {
		name, compose, engine string
		line                  string
		on, eng               string
	}{
		{"remote engine", strings.Replace(remoteCompose, "REPO", "/srv/backups/shop", 1), remoteEndpoint,
			"/srv/backups/shop (on the engine's host, tcp://prod:2375)", composeext.OnEngineHost, remoteEndpoint},
		{"local engine", strings.Replace(remoteCompose, "REPO", "/srv/backups/shop", 1), "",
			"/srv/backups/shop (on this machine)", composeext.OnThisMachine, ""},
		{"remote backend", strings.Replace(remoteCompose, "REPO", "s3:s3.amazonaws.com/acme/shop", 1), remoteEndpoint,
			"s3:s3.amazonaws.com/acme/shop\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCompose(t, strings.Replace(tc.compose, ".:/app", "/srv/app:/app", 1))
			load := composeext.LoadOptions{WorkingDir: dir, RemoteEngine: tc.engine}
			var text, js bytes.Buffer
			if err := runPlan(context.Background(), &planOptions{app: plainEngine(t), load: load, out: &text, errOut: &bytes.Buffer{}}); err != nil {
				t.Fatal(err)
			}
			if tc.on == composeext.OnEngineHost && !strings.Contains(text.String(), "restic.pw (on this machine)") {
				t.Errorf("plan does not say the password file is read on this machine:\n%s", text.String())
			}
			if !regexp.MustCompile(`Repository +` + regexp.QuoteMeta(tc.line)).MatchString(text.String()) {
				t.Errorf("plan lacks %q:\n%s", "Repository  "+tc.line, text.String())
			}
			if err := runPlan(context.Background(), &planOptions{app: plainEngine(t), load: load, json: true, out: &js, errOut: &bytes.Buffer{}}); err != nil {
				t.Fatal(err)
			}
			var plan struct {
				Repository struct{ On, Engine string }
			}
			if err := json.Unmarshal(js.Bytes(), &plan); err != nil {
				t.Fatal(err)
			}
			if plan.Repository.On != tc.on || plan.Repository.Engine != tc.eng {
				t.Errorf("--json repository on %q engine %q, want %q %q", plan.Repository.On, plan.Repository.Engine, tc.on, tc.eng)
			}
		})
	}
}

// metricsFixture is the remote fixture with its repository's folder on the engine's host.
func metricsFixture(t *testing.T) (*remoteFixture, string) {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "engine-host", "backups")
	f := newRemoteFixture(t, strings.Replace(remoteCompose, "REPO", repo, 1))
	if err := os.WriteFile(filepath.Join(f.dir, "restic.pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.eng.HostPaths = map[string]bool{repo: true, f.dir: true}
	return f, filepath.Join(t.TempDir(), "shop.prom")
}
