//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pluginVersion is stamped into the binary under test, so a test can tell it from an
// installed docker-backup.
var pluginVersion = "e2e-test-" + checkoutTag()

// checkoutTag tells checkouts apart (8 hex digits of the test folder's path): the helper
// image is tagged with the version, and an image build removes older builds of the same
// version, so two checkouts testing on one engine at once must not share one.
func checkoutTag() string {
	wd, _ := os.Getwd()
	sum := sha256.Sum256([]byte(wd))
	return hex.EncodeToString(sum[:4])
}

// env is what TestMain prepared for every test; it is read-only afterwards.
var env struct {
	// root is the module's top folder.
	root string
	// tmp is the run's temporary folder, removed when the run ends: for what tests
	// share, such as the images saved for swarms (savedImages).
	tmp string
	// dockerConfig is the temporary DOCKER_CONFIG whose cliPluginsExtraDirs holds the
	// freshly built plugin; the user's own ~/.docker is never touched.
	dockerConfig string
	// dockerHost is the engine's address as the user's docker CLI resolves it.
	dockerHost string
	// images and binaries from e2e/images/build.sh (its KEY=VALUE output).
	resticImage, dbImage, minioBin, resticBin string
	// resticBareImage has restic and nothing else (no shell): the plugin's helper image
	// is built on it, so every test shows the helpers need nothing more.
	resticBareImage string
	// compose is the compose command: ["docker", "compose"] or ["docker-compose"].
	compose []string
	// base is the environment of every command a test runs.
	base []string
}

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "dbe2e-")
	if err != nil {
		fatalf("creating a temporary folder: %v", err)
	}
	err = setup(tmp)
	code := 1
	if err == nil {
		code = m.Run()
		// The second engine the remote tests shared, before leftovers looks for what
		// second engines left.
		if !stopSharedEngine() {
			code = 1
		}
		removeMadeImage()
		// The run's restic cache is shared by its tests (as a user's is by projects).
		_ = exec.Command("docker", "volume", "rm", "-f", cacheVolume).Run()
		if leaks := leftovers(); leaks != "" {
			fmt.Fprintf(os.Stderr, "e2e: the tests left these behind (now removed):\n%s", leaks)
			code = 1
		}
	}
	os.RemoveAll(tmp)
	if err != nil {
		fatalf("%v", err)
	}
	os.Exit(code)
}

// cacheVolume holds the restic cache of this run's helpers; TestMain removes it.
var cacheVolume = runPrefix + "-cache"

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...)
	os.Exit(1)
}

// setup checks the engine, builds the images and the plugin, and writes the docker
// config the tests run with.
func setup(tmp string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	env.root = root
	env.tmp = tmp
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("the Docker engine is not reachable (`docker info` failed; the e2e tests need one, they never skip): %v: %s", err, bytes.TrimSpace(out))
	}
	if env.dockerHost, err = engineHost(); err != nil {
		return err
	}
	if err := buildImages(); err != nil {
		return err
	}
	env.dockerConfig = filepath.Join(tmp, "docker-config")
	plugins := filepath.Join(tmp, "cli-plugins")
	if err := buildPlugin(filepath.Join(plugins, "docker-backup")); err != nil {
		return err
	}
	cfg, err := json.Marshal(map[string]any{"cliPluginsExtraDirs": []string{plugins}})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(env.dockerConfig, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(env.dockerConfig, "config.json"), cfg, 0o600); err != nil {
		return err
	}
	env.base = append(os.Environ(),
		"DOCKER_CONFIG="+env.dockerConfig,
		"DOCKER_BACKUP_IMAGE="+env.resticBareImage,
		"DOCKER_BACKUP_E2E_DB_IMAGE="+env.dbImage,
		// Helpers keep restic's cache in a volume of this run, not the user's.
		"DOCKER_BACKUP_CACHE_VOLUME="+cacheVolume,
	)
	if os.Getenv("DOCKER_HOST") == "" && currentContext() != "default" {
		// The temporary config has none of the user's contexts: keep their engine.
		env.base = append(env.base, "DOCKER_HOST="+env.dockerHost)
	}
	env.compose = composeCommand()
	return provisionHelperImage(tmp)
}

// provisionHelperImage has the plugin build its helper image on the engine once, as the
// first command of a user would (an init of a throw-away project), so that no test sees
// the one line that says so.
func provisionHelperImage(tmp string) error {
	dir := filepath.Join(tmp, "provision")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	compose := "name: " + runPrefix + "-provision\nservices:\n  idle:\n    image: " + env.dbImage + "\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("docker", "backup", "init")
	cmd.Dir, cmd.Env = dir, env.base
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building the helper image with `docker backup init`: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: %s", out)
	return nil
}

// engineHost returns the engine address the user's docker CLI uses (DOCKER_HOST, or the
// current context's endpoint), before the tests switch to their own DOCKER_CONFIG.
func engineHost() (string, error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h, nil
	}
	out, err := exec.Command("docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}").Output()
	if err != nil {
		return "", fmt.Errorf("reading the current docker context: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// currentContext returns the name of the user's current docker context.
func currentContext() string {
	out, _ := exec.Command("docker", "context", "show").Output()
	return strings.TrimSpace(string(out))
}

// buildImages runs e2e/images/build.sh (cached: seconds once built) and reads its
// KEY=VALUE lines.
func buildImages() error {
	cmd := exec.Command("bash", filepath.Join(env.root, "e2e/images/build.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("building the e2e images (e2e/images/build.sh): %v", err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	for key, dst := range map[string]*string{
		"DOCKER_BACKUP_E2E_RESTIC_IMAGE":      &env.resticImage,
		"DOCKER_BACKUP_E2E_RESTIC_BARE_IMAGE": &env.resticBareImage,
		"DOCKER_BACKUP_E2E_DB_IMAGE":          &env.dbImage,
		"DOCKER_BACKUP_E2E_MINIO":             &env.minioBin,
		"DOCKER_BACKUP_E2E_RESTIC":            &env.resticBin,
	} {
		if *dst = kv[key]; *dst == "" {
			return fmt.Errorf("e2e/images/build.sh printed no %s", key)
		}
	}
	return nil
}

// buildPlugin builds the binary under test.
func buildPlugin(dst string) error {
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+pluginVersion, "-o", dst, "./cmd/docker-backup")
	cmd.Dir = env.root
	// Static, as install.sh builds it: the plugin builds its helper image with itself.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the plugin: %v\n%s", err, out)
	}
	return nil
}

// composeCommand prefers the compose v2 plugin and falls back to docker-compose.
func composeCommand() []string {
	v2 := exec.Command("docker", "compose", "version")
	v2.Env = env.base
	if v2.Run() == nil {
		return []string{"docker", "compose"}
	}
	return []string{"docker-compose"}
}
