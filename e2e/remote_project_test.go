//go:build e2e

package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// remoteProject is a compose project a test brought up on a second engine
// (startRemoteEngine) through that engine's context, from e2e/testdata/<scenario>/.
// The plugin reaches it through the proxy; the test's own looks (exec, ps, a throwaway
// container) go to the engine's socket, past the proxy, so they are never counted.
type remoteProject struct {
	name, dir string
	e         *remoteEngine
	// env is more environment for compose and the plugin (what the compose file
	// interpolates).
	env []string
}

// newRemoteProject copies the scenario to a temporary folder, brings it up on the second
// engine under a unique project name, checks that it runs there and not on the main
// engine, and waits for its PostgreSQL services. Cleanup takes everything down and
// checks that nothing of the project is left on either engine.
func newRemoteProject(t *testing.T, e *remoteEngine, scenario string, extraEnv ...string) *remoteProject {
	t.Helper()
	p := &remoteProject{name: runPrefix + randomHex(3), dir: filepath.Join(t.TempDir(), scenario), e: e, env: extraEnv}
	if err := os.CopyFS(p.dir, os.DirFS(filepath.Join(env.root, "e2e/testdata", scenario))); err != nil {
		t.Fatalf("copying the %s scenario: %v", scenario, err)
	}
	t.Cleanup(func() { p.down(t) })
	if r := p.compose(t, "up", "-d"); r.code != 0 {
		t.Fatalf("bringing up %s on the second engine: %v", scenario, r)
	}
	if ids := lines(mustDocker(t, "ps", "-aq", "--filter", p.composeLabel())); len(ids) > 0 {
		t.Fatalf("compose started %s on the main engine, not through the context: %q", p.name, ids)
	}
	for svc, id := range p.containers(t) {
		if cmd := p.e.MustDocker(t, "inspect", "--format", "{{index .Config.Cmd 0}}", id); strings.TrimSpace(cmd) == "postgres" {
			eventually(t, readyTimeout, "service "+svc+" of "+p.name, func() error {
				if r := p.e.Docker(t, "exec", id, "pg_isready", "-q", "-h", "127.0.0.1"); r.code != 0 {
					return errors.New(r.String())
				}
				return nil
			})
		}
	}
	return p
}

// newRemoteFolderProject is newRemoteProject with a folder repository: an empty folder
// on the engine's host (this machine) named to the compose file in repoVar, and a
// password in the project's backup-password.
func newRemoteFolderProject(t *testing.T, e *remoteEngine, scenario, repoVar string) (p *remoteProject, repo string) {
	t.Helper()
	repo = filepath.Join(t.TempDir(), "repository")
	if err := os.Mkdir(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	p = newRemoteProject(t, e, scenario, repoVar+"="+repo)
	if err := os.WriteFile(filepath.Join(p.dir, "backup-password"), []byte("e2e-"+randomHex(16)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, repo
}

func (p *remoteProject) composeLabel() string { return "label=com.docker.compose.project=" + p.name }
func (p *remoteProject) ourLabel() string     { return "label=" + labelProject + "=" + p.name }

// cmd prepares argv in the project's folder with its name, the context's environment
// and p.env.
func (p *remoteProject) cmd(argv ...string) cmdSpec {
	c := p.e.Cmd()
	c.argv, c.dir = argv, p.dir
	c.env = append(append(c.env, "COMPOSE_PROJECT_NAME="+p.name), p.env...)
	return c
}

// compose runs the compose tool on the second engine. docker-compose 1.29 does not read
// DOCKER_CONTEXT (docker-py takes config.json's currentContext, or DOCKER_HOST, which
// Env empties): without --context it would start the project on the main engine.
func (p *remoteProject) compose(t testing.TB, args ...string) result {
	t.Helper()
	var argv []string
	if env.compose[0] == "docker" {
		argv = append([]string{"docker", "--context", p.e.Context}, env.compose[1:]...)
	} else {
		argv = append(append(argv, env.compose...), "--context", p.e.Context)
	}
	r := p.cmd(append(argv, args...)...).run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	return r
}

// backup runs `docker --context CONTEXT backup --docker-socket SOCKET args…` in the
// project's folder. The helpers reach their engine by a bind mount of its socket on the
// engine's host; the default, /var/run/docker.sock, is the main engine here.
func (p *remoteProject) backup(t testing.TB, args ...string) result {
	t.Helper()
	r := p.cmd(append([]string{"docker", "--context", p.e.Context, "backup", "--docker-socket", p.e.Socket}, args...)...).run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	return r
}

// containers returns the project's service containers on the second engine, service to ID.
func (p *remoteProject) containers(t testing.TB) map[string]string {
	t.Helper()
	out := p.e.MustDocker(t, "ps", "-a", "--filter", p.composeLabel(), "--filter", "label=com.docker.compose.oneoff=False",
		"--format", `{{.ID}} {{.Label "com.docker.compose.service"}}`)
	m := map[string]string{}
	for _, l := range lines(out) {
		id, svc, _ := strings.Cut(l, " ")
		m[svc] = id
	}
	return m
}

// exec runs a command in a service's container on the second engine and returns its stdout.
func (p *remoteProject) exec(t testing.TB, service string, cmd ...string) string {
	t.Helper()
	id, ok := p.containers(t)[service]
	if !ok {
		t.Fatalf("project %s has no container for service %s on the second engine", p.name, service)
	}
	return p.e.MustDocker(t, append([]string{"exec", id}, cmd...)...)
}

// volume returns the second engine's name of one of the project's named volumes.
func (p *remoteProject) volume(t testing.TB, key string) string {
	t.Helper()
	names := lines(p.e.MustDocker(t, "volume", "ls", "-q", "--filter", p.composeLabel(), "--filter", "label=com.docker.compose.volume="+key))
	if len(names) != 1 {
		t.Fatalf("want one volume %s in project %s on the second engine, got %q", key, p.name, names)
	}
	return names[0]
}

// tree is the manifest of a volume on the second engine (treeScript: every path with
// type, mode and owner, every file's SHA-256), read by a throwaway container.
func (p *remoteProject) tree(t testing.TB, volume string) string {
	t.Helper()
	return p.e.MustDocker(t, "run", "--rm", "--network", "none", "--name", runPrefix+"tree"+randomHex(3),
		"-v", volume+":/v:ro", "--entrypoint", "sh", env.dbImage, "-c", treeScript, "sh", "/v")
}

// down removes the project from the second engine: our helpers and anchor, compose's
// `down -v`, then whatever still carries compose's label or ours (restore's staging and
// rollback volumes, stop records). It then checks that nothing of it is left there, nor
// on the main engine.
func (p *remoteProject) down(t testing.TB) {
	t.Helper()
	if t.Failed() {
		if r := p.compose(t, "logs", "--no-color", "--tail", "40"); r.code == 0 {
			t.Logf("logs of %s:\n%s", p.name, r.stdout)
		}
	}
	if ids := lines(p.e.Docker(t, "ps", "-aq", "--filter", p.ourLabel()).stdout); len(ids) > 0 {
		if r := p.e.Docker(t, append([]string{"rm", "-f", "-v"}, ids...)...); r.code != 0 {
			t.Errorf("removing the helpers of %s: %v", p.name, r)
		}
	}
	if r := p.compose(t, "down", "-v", "--remove-orphans", "--timeout", "10"); r.code != 0 {
		t.Errorf("taking down %s: %v", p.name, r)
	}
	kinds := []struct{ ls, rm []string }{
		{[]string{"ps", "-aq", "--filter", p.composeLabel()}, []string{"rm", "-f", "-v"}},
		{[]string{"volume", "ls", "-q", "--filter", p.composeLabel()}, []string{"volume", "rm", "-f"}},
		{[]string{"volume", "ls", "-q", "--filter", p.ourLabel()}, []string{"volume", "rm", "-f"}},
		{[]string{"network", "ls", "-q", "--filter", p.composeLabel()}, []string{"network", "rm"}},
	}
	for _, kind := range kinds {
		if ids := lines(p.e.Docker(t, kind.ls...).stdout); len(ids) > 0 {
			if r := p.e.Docker(t, append(kind.rm, ids...)...); r.code != 0 {
				t.Errorf("removing what is left of %s: %v", p.name, r)
			}
		}
	}
	for _, kind := range kinds {
		if left := lines(p.e.Docker(t, kind.ls...).stdout); len(left) > 0 {
			t.Errorf("left on the second engine after cleanup (%s): %q", strings.Join(kind.ls, " "), left)
		}
		if left := lines((cmdSpec{argv: append([]string{"docker"}, kind.ls...)}).run().stdout); len(left) > 0 {
			t.Errorf("on the main engine (%s): %q", strings.Join(kind.ls, " "), left)
		}
	}
}
