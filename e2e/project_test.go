//go:build e2e

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runPrefix starts the name of every project this run creates: "dbe2e" (no user names
// a project like that) and a random part, so runs on the same engine stay apart.
var runPrefix = "dbe2e" + randomHex(4)

// readyTimeout bounds the wait for a project's servers to accept connections (a first
// start initialises a database: long on a machine busy with the tests beside it).
const readyTimeout = 4 * time.Minute

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// project is a compose project a test brought up from e2e/testdata/<scenario>/.
type project struct {
	name string
	dir  string
}

// newProject copies e2e/testdata/<scenario>/ to a temporary folder, brings it up under
// a unique project name with the machine's compose tool, and waits until its database
// servers accept connections. Cleanup takes everything down, volumes included.
func newProject(t testing.TB, scenario string) *project {
	t.Helper()
	return newPreparedProject(t, scenario, nil)
}

// newPreparedProject is newProject with prepare run on the copied folder before the
// project comes up: to write a .env with a host path the compose file needs, say.
func newPreparedProject(t testing.TB, scenario string, prepare func(p *project)) *project {
	t.Helper()
	p := &project{name: runPrefix + randomHex(3), dir: filepath.Join(t.TempDir(), scenario)}
	if err := os.CopyFS(p.dir, os.DirFS(filepath.Join(env.root, "e2e/testdata", scenario))); err != nil {
		t.Fatalf("copying the %s scenario: %v", scenario, err)
	}
	t.Cleanup(func() { p.down(t) })
	if prepare != nil {
		prepare(p)
	}
	if r := p.compose(t, "up", "-d"); r.code != 0 {
		t.Fatalf("bringing up %s: %v", scenario, r)
	}
	p.waitReady(t)
	return p
}

// cmd prepares a command that runs in the project's folder with its name in the
// environment, as compose and the plugin both read COMPOSE_PROJECT_NAME.
func (p *project) cmd(argv []string) cmdSpec {
	return cmdSpec{argv: argv, dir: p.dir, env: []string{"COMPOSE_PROJECT_NAME=" + p.name}}
}

// compose runs the compose tool on the project.
func (p *project) compose(t testing.TB, args ...string) result {
	t.Helper()
	r := p.cmd(append(append([]string{}, env.compose...), args...)).run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	return r
}

// backup runs `docker backup args…` in the project's folder.
func (p *project) backup(t testing.TB, args ...string) result {
	t.Helper()
	r := p.cmd(append([]string{"docker", "backup"}, args...)).run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	return r
}

// down removes the project: the containers that carry our label (a run's anchor,
// helpers a killed run left), compose's own `down -v`, then whatever still carries the
// project's label (containers compose v1 did not know about), and the volumes that
// carry ours (restore's staging and rollback volumes, a run's stop records).
func (p *project) down(t testing.TB) {
	t.Helper()
	if t.Failed() {
		if r := p.compose(t, "logs", "--no-color", "--tail", "40"); r.code == 0 {
			t.Logf("logs of %s:\n%s", p.name, r.stdout)
		}
	}
	// A scheduler goes first: else it may begin a run (an anchor that mounts the
	// project's volumes) after its helpers were removed and before compose stops it,
	// and compose then cannot remove those volumes.
	scheduler := []string{"--filter", "label=com.docker.compose.project=" + p.name, "--filter", "label=io.docker-backup.scheduler=true"}
	if ids := lines(cmdSpec{argv: append([]string{"docker", "ps", "-aq"}, scheduler...)}.run().stdout); len(ids) > 0 {
		if r := (cmdSpec{argv: append([]string{"docker", "rm", "-f"}, ids...)}).run(); r.code != 0 {
			t.Errorf("removing the scheduler of %s: %v", p.name, r)
		}
	}
	// A run's anchor and the helpers a killed run left carry our label, not compose's;
	// they go first, as they may mount the volumes that compose removes.
	ours := "label=io.docker-backup.project=" + p.name
	if ids := lines(cmdSpec{argv: []string{"docker", "ps", "-aq", "--filter", ours}}.run().stdout); len(ids) > 0 {
		if r := (cmdSpec{argv: append([]string{"docker", "rm", "-f", "-v"}, ids...)}).run(); r.code != 0 {
			t.Errorf("removing the helpers of %s: %v", p.name, r)
		}
	}
	if r := p.compose(t, "down", "-v", "--remove-orphans", "--timeout", "10"); r.code != 0 {
		t.Errorf("taking down %s: %v", p.name, r)
	}
	filter := "label=com.docker.compose.project=" + p.name
	for _, kind := range []struct{ ls, rm []string }{
		{[]string{"ps", "-aq", "--filter", filter}, []string{"rm", "-f", "-v"}},
		// A scheduler's job may have started a helper or anchor while compose stopped it.
		{[]string{"ps", "-aq", "--filter", ours}, []string{"rm", "-f", "-v"}},
		{[]string{"volume", "ls", "-q", "--filter", filter}, []string{"volume", "rm", "-f"}},
		// restore's staging and rollback volumes and a run's stop records carry our
		// label, not compose's.
		{[]string{"volume", "ls", "-q", "--filter", ours}, []string{"volume", "rm", "-f"}},
		{[]string{"network", "ls", "-q", "--filter", filter}, []string{"network", "rm"}},
	} {
		ids := lines(cmdSpec{argv: append([]string{"docker"}, kind.ls...)}.run().stdout)
		if len(ids) == 0 {
			continue
		}
		if r := (cmdSpec{argv: append(append([]string{"docker"}, kind.rm...), ids...)}).run(); r.code != 0 {
			t.Errorf("removing what is left of %s: %v", p.name, r)
		}
	}
}

// containers returns the project's service containers, service name to container ID.
func (p *project) containers(t testing.TB) map[string]string {
	t.Helper()
	out := mustDocker(t, "ps", "-a", "--filter", "label=com.docker.compose.project="+p.name,
		"--filter", "label=com.docker.compose.oneoff=False",
		"--format", `{{.ID}} {{.Label "com.docker.compose.service"}}`)
	m := map[string]string{}
	for _, l := range lines(out) {
		id, svc, _ := strings.Cut(l, " ")
		if _, dup := m[svc]; dup {
			t.Fatalf("service %s of %s has more than one container", svc, p.name)
		}
		m[svc] = id
	}
	return m
}

// container returns the ID of a service's container.
func (p *project) container(t testing.TB, service string) string {
	t.Helper()
	id, ok := p.containers(t)[service]
	if !ok {
		t.Fatalf("project %s has no container for service %s", p.name, service)
	}
	return id
}

// tryExec runs a command in a service's container and returns what happened.
func (p *project) tryExec(t testing.TB, service, stdin string, cmd ...string) result {
	t.Helper()
	argv := []string{"docker", "exec"}
	if stdin != "" {
		argv = append(argv, "-i")
	}
	argv = append(append(argv, p.container(t, service)), cmd...)
	return cmdSpec{argv: argv, stdin: stdin}.run()
}

// exec runs a command in a service's container, fails the test unless it succeeds,
// and returns its stdout.
func (p *project) exec(t testing.TB, service string, cmd ...string) string {
	t.Helper()
	r := p.tryExec(t, service, "", cmd...)
	if r.code != 0 {
		t.Fatalf("in service %s: %v", service, r)
	}
	return r.stdout
}

// execInput is exec with stdin, e.g. SQL for a database client.
func (p *project) execInput(t testing.TB, service, stdin string, cmd ...string) string {
	t.Helper()
	r := p.tryExec(t, service, stdin, cmd...)
	if r.code != 0 {
		t.Fatalf("in service %s: %v", service, r)
	}
	return r.stdout
}

// readyProbes say how to ask a server of the e2e database image whether it accepts
// connections, keyed by the container's command. They go over TCP on purpose: during
// first-start initialisation the servers listen on their Unix socket only, then
// restart, so a socket probe can succeed too early.
var readyProbes = map[string][]string{
	"postgres":     {"pg_isready", "-q", "-h", "127.0.0.1"},
	"mariadbd":     {"mariadb-admin", "--protocol=tcp", "-h", "127.0.0.1", "ping"},
	"mysqld":       {"mariadb-admin", "--protocol=tcp", "-h", "127.0.0.1", "ping"},
	"redis-server": {"redis-cli", "-h", "127.0.0.1", "ping"},
}

// waitReady polls each service container until it is running and, for a database
// server, until the server answers its probe. A container that exits fails at once.
func (p *project) waitReady(t testing.TB) {
	t.Helper()
	for svc, id := range p.containers(t) {
		var command []string
		if err := json.Unmarshal([]byte(mustDocker(t, "inspect", "--format", "{{json .Config.Cmd}}", id)), &command); err != nil {
			t.Fatalf("reading the command of %s: %v", svc, err)
		}
		var probe []string
		if len(command) > 0 {
			probe = readyProbes[command[0]]
		}
		eventually(t, readyTimeout, "service "+svc+" of "+p.name, func() error {
			state := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.State.Status}}", id))
			if state != "running" {
				logs := runDocker(t, "logs", "--tail", "30", id)
				t.Fatalf("service %s is %s, not running; its log:\n%s%s", svc, state, logs.stdout, logs.stderr)
			}
			if probe == nil {
				return nil
			}
			if r := (cmdSpec{argv: append([]string{"docker", "exec", id}, probe...)}).run(); r.code != 0 {
				return fmt.Errorf("%s: %v", strings.Join(probe, " "), r)
			}
			return nil
		})
	}
}

// volume returns the engine's name of one of the project's named volumes.
func (p *project) volume(t testing.TB, key string) string {
	t.Helper()
	names := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+p.name,
		"--filter", "label=com.docker.compose.volume="+key))
	if len(names) != 1 {
		t.Fatalf("want one volume %s in project %s, got %q", key, p.name, names)
	}
	return names[0]
}
