package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"slices"
	"syscall"
)

// EnvFile is where a helper finds the backend settings that restic reads only from its
// environment but that are secrets (a password, a token): copied into the helper as a
// JSON object, so they never show in `docker inspect`.
const EnvFile = "/run/docker-backup/env.json"

// resticPaths are where restic images keep restic, tried when it is not on PATH.
var resticPaths = []string{"/usr/bin/restic", "/usr/local/bin/restic", "/bin/restic", "/restic"}

// execRestic replaces the agent with restic, its environment completed from EnvFile.
func execRestic(args, environ []string) error {
	env, err := withEnvFile(environ, EnvFile)
	if err != nil {
		return err
	}
	path, err := findRestic()
	if err != nil {
		return err
	}
	return syscall.Exec(path, append([]string{"restic"}, args...), env)
}

// withEnvFile returns environ with the variables of the JSON file at path added (a
// missing file adds none).
func withEnvFile(environ []string, path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return environ, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the backend settings: %w", err)
	}
	vars := map[string]string{}
	if err := json.Unmarshal(data, &vars); err != nil {
		return nil, fmt.Errorf("reading the backend settings %s: %w", path, err)
	}
	env := slices.Clone(environ)
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env, nil
}

// findRestic returns the path of the restic binary of the image.
func findRestic() (string, error) {
	if p, err := exec.LookPath("restic"); err == nil {
		return p, nil
	}
	for _, p := range resticPaths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("restic is not in the helper image (looked on PATH and in /usr/bin, /usr/local/bin, /bin, /)")
}
