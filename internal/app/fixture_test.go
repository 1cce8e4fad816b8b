package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// fakeDocker is the shared fake engine as the app's client; asking it for its version
// panics.
type fakeDocker struct {
	*enginetest.Engine
	engine.VersionAPI
}

// writeCompose writes a compose.yaml of src into a new folder and returns the folder.
func writeCompose(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const remoteEndpoint = "tcp://prod:2375"

// projectCompose is project shop with a folder repository REPO on the engine's host.
const projectCompose = `name: shop
x-backup:
  repository: REPO
  password_file: restic.pw
services:
  app:
    image: example/app
    volumes: [.:/app]
    x-backup: true
`

// fixture is project shop whose engine is at tcp://prod:2375, with its repository's
// folder on the engine's host: its helpers run the fake restic and its anchors read
// their input to the end.
type fixture struct {
	dir      string
	eng      *enginetest.Engine
	rst      *enginetest.Restic
	out, err bytes.Buffer
	app      *App
}

func newFixture(t *testing.T) *fixture { return composeFixture(t, projectCompose) }

// composeFixture is the fixture of another compose file of project shop, whose
// repository is REPO.
func composeFixture(t *testing.T, compose string) *fixture {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "engine-host", "backups")
	f := &fixture{dir: writeCompose(t, strings.Replace(compose, "REPO", repo, 1)), eng: enginetest.New(t), rst: enginetest.NewRestic()}
	if err := os.WriteFile(filepath.Join(f.dir, "restic.pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.eng.HostPaths = map[string]bool{repo: true, f.dir: true}
	f.eng.SystemInfo = system.Info{ID: "engine-id", Name: "prod"}
	f.eng.Program = func(p *enginetest.Process) int {
		if p.Config.Labels[helper.LabelKind] == helper.KindAnchor {
			return enginetest.Cat(p)
		}
		return f.rst.Program(p)
	}
	f.app = &App{
		// A prebuilt helper image: the fake engine cannot build one.
		Environ:   []string{"DOCKER_BACKUP_AGENT_IMAGE=docker-backup:test"},
		Docker:    func() (DockerAPI, error) { return fakeDocker{Engine: f.eng}, nil },
		Locate:    func() (Location, error) { return Location{Remote: true, Endpoint: remoteEndpoint}, nil },
		Notes:     &f.err,
		Mountinfo: func() string { return "" },
	}
	return f
}

// load is the fixture's project as the command line loads it.
func (f *fixture) load() composeext.LoadOptions {
	return composeext.LoadOptions{WorkingDir: f.dir, Environ: f.app.Environ, RemoteEngine: remoteEndpoint}
}

// leftBehind seeds what a restore of app killed with -9 left: app stopped, its stop record.
func leftBehind(f *fixture) {
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", false))
	f.eng.AddVolume("docker-backup-stopped-dead000001-c1", map[string]string{
		helper.LabelProject: "shop", helper.LabelRun: "dead000001", helper.LabelService: "app", helper.LabelStopped: "c1"})
}

// anchorRestic answers the run's restic commands, execs in its anchor (docker-backup
// agent restic …), by command, and records their argv.
type anchorRestic struct {
	mu      sync.Mutex
	replies map[string]enginetest.Reply
	// answer, when set, answers first: ok false leaves args to replies.
	answer func(args []string) (r enginetest.Reply, ok bool)
	argv   []string
}

func newAnchorRestic(f *fixture) *anchorRestic {
	a := &anchorRestic{replies: map[string]enginetest.Reply{
		"snapshots": {Stdout: "[]\n"},
		"backup":    {Stdout: `{"message_type":"summary","data_added":2048,"total_files_processed":3,"snapshot_id":"0123456789abcdef"}` + "\n"},
		"stats":     {Stdout: `{"total_size":4096,"snapshots_count":5}` + "\n"},
	}}
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		i := slices.IndexFunc(x.Cmd, func(a string) bool { return a == "restic" || a == agent.HeldResticCommand })
		if i < 0 || i+1 >= len(x.Cmd) {
			return 0
		}
		args := x.Cmd[i+1:]
		a.mu.Lock()
		a.argv = append(a.argv, strings.Join(args, " "))
		r, ok := enginetest.Reply{}, false
		if a.answer != nil {
			r, ok = a.answer(args)
		}
		if !ok {
			r = a.replies[args[0]]
		}
		a.mu.Unlock()
		_, _ = io.WriteString(x.Stdout, r.Stdout)
		_, _ = io.WriteString(x.Stderr, r.Stderr)
		return r.Code
	}
	return a
}

// metricsFixture is the fixture with a metrics file's path.
func metricsFixture(t *testing.T) (*fixture, string) {
	return newFixture(t), filepath.Join(t.TempDir(), "shop.prom")
}

// sink prints the warnings among the events, as the command line does.
func (f *fixture) sink() Sink {
	return SinkFunc(func(e Event) {
		if e.Kind == Warning {
			fmt.Fprintln(&f.err, "warning: "+e.Message)
		}
	})
}

// run runs the use case of args as the command line would (the commands and flags
// these tests use).
func (f *fixture) run(args ...string) error {
	ctx := context.Background()
	var metrics string
	var prune, dryRun bool
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "--metrics-file":
			i++
			metrics = args[i]
		case "--prune":
			prune = true
		case "--dry-run":
			dryRun = true
		}
	}
	var err error
	switch args[0] {
	case "up":
		_, err = f.app.Up(ctx, UpOptions{Load: f.load(), MetricsFile: metrics}, f.sink())
	case "check":
		err = f.app.Check(ctx, CheckOptions{Load: f.load(), MetricsFile: metrics, Out: &f.out}, f.sink())
	case "forget":
		err = f.app.Forget(ctx, ForgetOptions{Load: f.load(), Prune: prune, DryRun: dryRun, MetricsFile: metrics, Out: &f.out}, f.sink())
	case "snapshots":
		_, err = f.app.Snapshots(ctx, f.load(), nil, "", f.sink())
	case "status":
		_, err = f.app.Status(ctx, f.load(), "", f.sink())
	default:
		panic("no use case " + args[0])
	}
	return err
}

// The exit codes the command line maps errors onto (plugin/exitcode.go).
const (
	ExitFailure = 1
	ExitUsage   = 2
)

// exitCode is the command line's exit code for a use case's error (not nil).
func exitCode(_ context.Context, err error) int {
	if errors.Is(err, ErrUsage) || errors.Is(err, composeext.ErrInvalid) {
		return ExitUsage
	}
	return ExitFailure
}

// ran are the restic commands run that begin with command.
func (a *anchorRestic) ran(command string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.argv {
		if c == command || strings.HasPrefix(c, command+" ") {
			out = append(out, c)
		}
	}
	return out
}
