package restic

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/engine"
)

// Paths inside a helper container.
const (
	secretsDir        = "/run/docker-backup"
	repositoryFile    = secretsDir + "/repository"
	passwordFile      = secretsDir + "/password"
	awsCredentialsDir = secretsDir + "/aws-credentials"
	envFile           = secretsDir + "/env"
	localRepoPath     = "/repo"
	cachePath         = "/cache"
	// HelperHostname is the hostname of every helper; restic records it in its locks.
	HelperHostname = "docker-backup"
	// DefaultCacheVolume holds restic's cache between runs, so metadata is not
	// downloaded again by every helper.
	DefaultCacheVolume = "docker-backup-cache"
)

// Repo is a repository and what opens it.
type Repo struct {
	// URL is the restic repository string; for a local repository, a host path.
	URL   string
	Local bool
	// Password is the repository password.
	Password []byte
	// Env holds backend settings and credentials. AWS keys reach the helper as a
	// credentials file; the others as environment variables.
	Env map[string]string
}

// ID identifies the repository in helper labels without revealing its URL.
func (r Repo) ID() string {
	sum := sha256.Sum256([]byte(r.URL))
	return hex.EncodeToString(sum[:8])
}

// ContainerRunner runs restic in short-lived helper containers.
type ContainerRunner struct {
	API     engine.API
	Image   string
	Project string
	Repo    Repo
	// CacheVolume is the named volume for restic's cache (DefaultCacheVolume if empty).
	CacheVolume string
	// Network is the helpers' network mode ("" for the engine's default, "host"…).
	Network string
}

// awsSecretKeys are the AWS variables that go into a credentials file instead of the environment.
var awsSecretKeys = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// Run runs one restic invocation in a new helper container and removes it afterwards.
func (c *ContainerRunner) Run(ctx context.Context, inv Invocation) error {
	spec, err := c.helperSpec(inv)
	if err != nil {
		return err
	}
	stderr := &engine.Tail{Max: 8 << 10}
	spec.Stderr = stderr
	code, err := engine.RunHelper(ctx, c.API, spec)
	if err != nil {
		return err
	}
	return exitError(code, stderrMessage(stderr.String()))
}

func (c *ContainerRunner) helperSpec(inv Invocation) (engine.HelperSpec, error) {
	repoURL := c.Repo.URL
	var mounts []mount.Mount
	if c.Repo.Local {
		repoURL = localRepoPath
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: c.Repo.URL, Target: localRepoPath})
	}
	cache := c.CacheVolume
	if cache == "" {
		cache = DefaultCacheVolume
	}
	mounts = append(mounts,
		mount.Mount{Type: mount.TypeVolume, Source: cache, Target: cachePath},
		// restic writes its packs to /tmp before storing them: on the container's own
		// filesystem (fuse-overlayfs on some engines) that costs as much as the backup.
		mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{Mode: 0o1777}})
	for _, m := range inv.Mounts {
		mounts = append(mounts, mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	env := []string{
		"RESTIC_REPOSITORY_FILE=" + repositoryFile,
		"RESTIC_PASSWORD_FILE=" + passwordFile,
		"RESTIC_CACHE_DIR=" + cachePath,
		"RESTIC_PROGRESS_FPS=2",
	}
	files := []engine.File{
		{Path: repositoryFile, Mode: 0o400, Data: []byte(repoURL + "\n")},
		{Path: passwordFile, Mode: 0o400, Data: c.Repo.Password},
	}
	var aws, secret bytes.Buffer
	for _, k := range slices.Sorted(maps.Keys(c.Repo.Env)) {
		v := c.Repo.Env[k]
		switch {
		case slices.Contains(awsSecretKeys, k):
			fmt.Fprintf(&aws, "%s = %s\n", strings.ToLower(k), v)
		case looksSecret(k):
			fmt.Fprintf(&secret, "export %s=%s\n", k, shellQuote(v))
		default:
			env = append(env, k+"="+v)
		}
	}
	var entrypoint []string
	if secret.Len() > 0 {
		// restic reads these only from its environment: a shell in the helper sources them
		// from a file, so they never show in `docker inspect`. The restic image has one.
		files = append(files, engine.File{Path: envFile, Mode: 0o400, Data: secret.Bytes()})
		entrypoint = []string{"/bin/sh", "-c", ". " + envFile + ` && exec restic "$@"`, "restic"}
	}
	if aws.Len() > 0 {
		files = append(files, engine.File{Path: awsCredentialsDir, Mode: 0o400, Data: append([]byte("[default]\n"), aws.Bytes()...)})
		env = append(env, "AWS_SHARED_CREDENTIALS_FILE="+awsCredentialsDir, "AWS_PROFILE=default")
	}
	labels := map[string]string{
		engine.LabelHelper:        "true",
		engine.LabelHelperProject: c.Project,
		engine.LabelRepository:    c.Repo.ID(),
		engine.LabelKind:          inv.Kind,
	}
	if inv.Service != "" {
		labels[engine.LabelHelperService] = inv.Service
	}
	maps.Copy(labels, inv.Labels)
	return engine.HelperSpec{
		Name:        helperName(c.Project, inv),
		Image:       c.Image,
		Entrypoint:  entrypoint,
		Cmd:         inv.Args,
		Env:         env,
		Mounts:      mounts,
		Labels:      labels,
		Hostname:    HelperHostname,
		NetworkMode: c.Network,
		Files:       files,
		Stdin:       inv.Stdin,
		Stdout:      inv.Stdout,
	}, nil
}

// looksSecret tells a credential by its name (B2_ACCOUNT_KEY, AZURE_ACCOUNT_KEY,
// OS_PASSWORD, GOOGLE_ACCESS_TOKEN…): such values go into a file, not the environment.
func looksSecret(name string) bool {
	for _, w := range []string{"KEY", "SECRET", "TOKEN", "PASSWORD", "PASS", "CREDENTIAL", "AUTH"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// helperName is unique and says whose helper it is: <project>-backup-<service or kind>-<random>.
func helperName(project string, inv Invocation) string {
	what := inv.Service
	if what == "" {
		what = inv.Kind
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.Trim(project+"-backup-"+what, "-")
	return name + "-" + hex.EncodeToString(b[:])
}

// stderrMessage extracts restic's message from its stderr: the exit_error JSON if there
// is one, else the last non-empty lines.
func stderrMessage(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var m exitErrorMessage
		var head struct {
			MessageType string `json:"message_type"`
		}
		if json.Unmarshal([]byte(lines[i]), &head) == nil && head.MessageType == "exit_error" && json.Unmarshal([]byte(lines[i]), &m) == nil {
			return m.Message
		}
	}
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < 3; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "{") {
			continue
		}
		keep = append([]string{l}, keep...)
	}
	return strings.Join(keep, "; ")
}
