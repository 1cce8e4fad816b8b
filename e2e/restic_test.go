//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resticJSON runs plain restic (not the plugin) with --json on a repository and
// returns its stdout, so a test can check what the plugin stored on its own terms.
func resticJSON(t testing.TB, repo, passwordFile string, args ...string) string {
	t.Helper()
	return resticJSONEnv(t, repo, passwordFile, nil, args...)
}

// resticJSONEnv is resticJSON with extra environment, e.g. minio.Env().
func resticJSONEnv(t testing.TB, repo, passwordFile string, extraEnv []string, args ...string) string {
	t.Helper()
	r := resticCmd(repo, passwordFile, extraEnv, append([]string{"--json", "--no-cache"}, args...)...).run()
	if r.code != 0 {
		t.Fatalf("restic %s: %v", strings.Join(args, " "), r)
	}
	return r.stdout
}

// resticCmd prepares a plain restic command on a repository. A local repository (an
// absolute path) is bind-mounted into the e2e restic image, which runs as root like the
// plugin's helpers and so can read what they wrote; any other address
// (s3:http://127.0.0.1…) goes to the host's restic binary.
func resticCmd(repo, passwordFile string, extraEnv []string, args ...string) cmdSpec {
	if !filepath.IsAbs(repo) {
		return cmdSpec{argv: append([]string{env.resticBin}, args...),
			env: append([]string{"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD_FILE=" + passwordFile}, extraEnv...)}
	}
	argv := []string{"docker", "run", "--rm", "-i", "--network", "none",
		"--name", runPrefix + "restic" + randomHex(3),
		"-v", repo + ":/repo", "-v", passwordFile + ":/run/restic-password:ro",
		"-e", "RESTIC_REPOSITORY=/repo", "-e", "RESTIC_PASSWORD_FILE=/run/restic-password"}
	for _, kv := range extraEnv {
		argv = append(argv, "-e", kv)
	}
	return cmdSpec{argv: append(append(argv, env.resticImage), args...)}
}

// passwordFile writes a repository password to a temporary file and returns its path.
func passwordFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "restic-password")
	if err := os.WriteFile(path, []byte("e2e-"+randomHex(8)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
