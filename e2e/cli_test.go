//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// versionJSON is the part of `docker backup version --json` the tests read.
type versionJSON struct {
	Plugin struct {
		Version string `json:"version"`
	} `json:"plugin"`
	Engine struct {
		Version string `json:"version"`
	} `json:"engine"`
}

// engineVersion is the engine's version as the docker CLI itself reports it.
func engineVersion(t *testing.T) string {
	t.Helper()
	v := strings.TrimSpace(mustDocker(t, "version", "--format", "{{.Server.Version}}"))
	if v == "" {
		t.Fatal("docker version printed no server version")
	}
	return v
}

// checkVersion runs `docker <global…> backup version --json` and checks both versions.
func checkVersion(t *testing.T, global ...string) {
	t.Helper()
	r := runDocker(t, append(global, "backup", "version", "--json")...)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var v versionJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, r.stdout)
	}
	if v.Plugin.Version != pluginVersion {
		t.Errorf("plugin version = %q, want %q (the binary under test)", v.Plugin.Version, pluginVersion)
	}
	if want := engineVersion(t); v.Engine.Version != want {
		t.Errorf("engine version = %q, want %q", v.Engine.Version, want)
	}
}

func TestDockerHelpListsBackup(t *testing.T) {
	t.Parallel()
	r := runDocker(t, "--help")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	for _, l := range lines(r.stdout) {
		f := strings.Fields(l)
		if len(f) > 1 && strings.TrimSuffix(f[0], "*") == "backup" {
			if !strings.Contains(l, "Back up and restore compose projects") {
				t.Errorf("docker --help lists backup without its description: %q", l)
			}
			return
		}
	}
	t.Fatalf("docker --help does not list backup:\n%s", r.stdout)
}

func TestPluginIsTheOneUnderTest(t *testing.T) {
	t.Parallel()
	out := mustDocker(t, "info", "--format", `{{range .ClientInfo.Plugins}}{{.Name}} {{.Path}}{{"\n"}}{{end}}`)
	for _, l := range lines(out) {
		if name, path, _ := strings.Cut(l, " "); name == "backup" {
			if dir := filepath.Dir(path); !strings.HasPrefix(dir, filepath.Dir(env.dockerConfig)) {
				t.Fatalf("docker runs the backup plugin at %s, not the one built for the tests", path)
			}
			return
		}
	}
	t.Fatalf("docker info lists no backup plugin:\n%s", out)
}

func TestBackupHelp(t *testing.T) {
	t.Parallel()
	r := runDocker(t, "backup", "--help")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(r.stdout, "docker backup") {
		t.Errorf("help does not name the command as docker backup:\n%s", r.stdout)
	}
	listed := map[string]bool{}
	for _, l := range lines(r.stdout) {
		if f := strings.Fields(l); len(f) > 0 {
			listed[strings.TrimSuffix(f[0], ",")] = true
		}
	}
	for _, cmd := range []string{"up", "restore", "snapshots", "plan", "init", "forget", "check", "version"} {
		if !listed[cmd] {
			t.Errorf("help does not list %s:\n%s", cmd, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	checkVersion(t)

	r := runDocker(t, "backup", "version")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	for _, want := range []string{pluginVersion, engineVersion(t)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version does not print %q:\n%s", want, r.stdout)
		}
	}
}

// TestVersionContext creates docker contexts in the tests' own DOCKER_CONFIG (the user's
// are untouched): one for the engine, which must work, and one for a socket that does
// not exist, which must fail, so the plugin is seen to follow --context.
func TestVersionContext(t *testing.T) {
	t.Parallel()
	good, bad := runPrefix+"good", runPrefix+"bad"
	mustDocker(t, "context", "create", good, "--docker", "host="+env.dockerHost)
	t.Cleanup(func() { runDocker(t, "context", "rm", "-f", good) })
	mustDocker(t, "context", "create", bad, "--docker", "host=unix:///nonexistent/docker.sock")
	t.Cleanup(func() { runDocker(t, "context", "rm", "-f", bad) })

	checkVersion(t, "--context", good)
	checkUnreachable(t, "--context", bad)
}

func TestVersionHost(t *testing.T) {
	t.Parallel()
	checkVersion(t, "-H", env.dockerHost)
	checkUnreachable(t, "-H", "unix:///nonexistent/docker.sock")
}

// checkUnreachable runs version against an engine that is not there: exit code 1 and
// a message about the engine, no engine version.
func checkUnreachable(t *testing.T, global ...string) {
	t.Helper()
	r := runDocker(t, append(global, "backup", "version", "--json")...)
	if r.code != 1 {
		t.Fatalf("want exit code 1 for an unreachable engine: %v", r)
	}
	if !strings.Contains(r.stderr, "/nonexistent/docker.sock") {
		t.Errorf("the error does not name the engine's address: %v", r)
	}
}

func TestBadComposeFile(t *testing.T) {
	t.Parallel()
	const missing = "/nonexistent/compose.yaml"
	r := cmdSpec{argv: []string{"docker", "backup", "-f", missing, "plan"}, dir: t.TempDir()}.run()
	if r.code != 2 {
		t.Errorf("want exit code 2 for a missing compose file: %v", r)
	}
	if l := lines(r.stderr); len(l) != 1 || !strings.Contains(l[0], missing) {
		t.Errorf("want one stderr line naming %s: %v", missing, r)
	}
}
