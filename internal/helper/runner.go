// Package helper runs restic and the agent in short-lived helper containers of our own
// image: the restic.Runner for the engine (repository, password and backend secrets
// as files, never argv or environment), the run's anchor as the host of its restic
// commands, the dump helpers that get the engine's API socket, and the agent's own
// commands (a restore's preflight and swap). Its labels mark every container and volume
// docker-backup creates.
package helper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// Paths inside a helper container.
const (
	secretsDir        = "/run/docker-backup"
	repositoryFile    = secretsDir + "/repository"
	passwordFile      = secretsDir + "/password"
	awsCredentialsDir = secretsDir + "/aws-credentials"
	localRepoPath     = "/repo"
	cachePath         = "/cache"
	// DefaultCacheVolume holds restic's cache between runs, so metadata is not
	// downloaded again by every helper.
	DefaultCacheVolume = "docker-backup-cache"
)

// Repo is a repository and what opens it.
type Repo struct {
	// URL is the restic repository string; for a local repository, a path of the
	// engine's host.
	URL   string
	Local bool
	// CreateFolder lets the engine create a local repository's missing folder (mode
	// 0755, owned by root) when it mounts it, as `docker run -v` does: init does so for a folder of a remote
	// engine's host, which this machine cannot create. Otherwise a missing folder is
	// restic.ErrRepoNotFound, so that an unmounted disk is never filled in its place.
	CreateFolder bool
	// Password is the repository password.
	Password []byte
	// Env holds backend settings and credentials. AWS keys reach the helper as a
	// credentials file, the harmless settings as environment variables, every other
	// one through a file (composeext.IsSecretSetting).
	Env map[string]string
}

// ID identifies the repository in helper labels without revealing its URL.
func (r Repo) ID() string {
	sum := sha256.Sum256([]byte(r.URL))
	return hex.EncodeToString(sum[:8])
}

// Runner runs restic in short-lived helper containers: restic.Runner for the engine.
type Runner struct {
	API engine.API
	// Image is the agent image (package agentimage): restic and docker-backup.
	Image   string
	Project string
	Repo    Repo
	// CacheVolume is the named volume for restic's cache (DefaultCacheVolume if empty).
	CacheVolume string
	// Network is the helpers' network mode (DOCKER_BACKUP_NETWORK: "host", a network's
	// name…); when empty, a helper gets the engine's default network only when its
	// repository needs one (see network).
	Network string
	// RetryLock is restic's --retry-lock for every command: how long to wait for a
	// lock someone else holds.
	RetryLock time.Duration
	// DockerSocket is the engine's API socket on the engine's host
	// (composeext.Plan.DockerSocket), mounted into the helpers of SocketKinds only;
	// composeext.DefaultDockerSocket when empty.
	DockerSocket string
	// DockerSocketSetting and DockerSocketNote say where DockerSocket came from, for
	// the one line of a socket that is not the engine's (SocketError).
	DockerSocketSetting, DockerSocketNote string
	// NodeSocket is the engine socket's path on each node of a swarm
	// (composeext.Plan.DockerSocket), for the jobs that get their node's socket.
	NodeSocket string
	// Engine is the identity of the engine this process talks to: a socket helper
	// checks that its socket answers as it before it does anything (CheckSocket); the
	// zero value checks nothing.
	Engine engine.Identity
	// RunID is the run whose helpers these are; helpers of a runner outside a run
	// (read-only commands) carry none, and recovery leaves them running.
	RunID string
	// host, while the run has one, runs the restic commands it has the mounts for.
	host *host
	// from is the repository a copy runner's helpers copy from (CopyRunner).
	from *Repo
	// servedFrom: the agent serves from to restic (NeedsServedSource).
	servedFrom bool
}

// ResticEntrypoint runs restic in a helper through the agent, which completes restic's
// environment with the secret backend settings (agent.EnvFile).
var ResticEntrypoint = []string{agentimage.Binary, agent.Command, "restic"}

// awsSecretKeys are the AWS variables that go into a credentials file.
var awsSecretKeys = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// Run runs one restic invocation: in the run's host container when it has every mount
// the invocation needs (and it streams no input, needs no files or socket of its own),
// else in a new helper container, removed afterwards.
func (c *Runner) Run(ctx context.Context, inv restic.Invocation) error {
	if h := c.host; h != nil && h.runs(inv) {
		return c.execIn(ctx, h, inv)
	}
	spec := c.helperSpec(inv)
	stderr := &engine.Tail{Max: 8 << 10}
	spec.Stderr = stderr
	code, err := engine.RunHelper(ctx, c.API, spec)
	if _, socket := socketHelpers[inv.Kind]; socket {
		if serr := c.socketFailure(code, stderr.String(), err); serr != nil {
			return serr
		}
	}
	if err != nil {
		return c.missingFolder(err)
	}
	if f := dump.ParseFailure(code, stderr.String()); f != nil {
		return f
	}
	return restic.ErrorForExit(code, stderr.String())
}

// missingFolder turns the engine's refusal to mount a local repository's folder that
// does not exist on its host into restic.ErrRepoNotFound.
func (c *Runner) missingFolder(err error) error {
	if c.Repo.Local && engine.IsMissingBindSource(err, c.Repo.URL) {
		return fmt.Errorf("%w: the engine's host has no folder %s (is its disk mounted?)", restic.ErrRepoNotFound, c.Repo.URL)
	}
	return err
}

// network is the helpers' network mode: Network when set, else none for a folder
// repository (and, for a copy runner, a folder source) (restic reads it through a mount, the dump helpers reach the engine
// through its socket, a file), else the engine's default network, which a remote
// backend (s3:, sftp:, rest:…) needs. The run's host has it too, so its restic execs
// run with the same.
func (c *Runner) network() string {
	switch {
	case c.Network != "":
		return c.Network
	case c.Repo.Local && (c.from == nil || c.from.Local):
		return "none"
	}
	return ""
}

// Labels are the labels of a helper of the runner for a service (none: "") and kind;
// a run's helpers carry its ID.
func (c *Runner) Labels(service, kind string) map[string]string {
	l := map[string]string{LabelHelper: "true", LabelProject: c.Project, LabelRepository: c.Repo.ID(), LabelKind: kind}
	if service != "" {
		l[LabelService] = service
	}
	if c.RunID != "" {
		l[LabelRun] = c.RunID
	}
	return l
}

func (c *Runner) helperSpec(inv restic.Invocation) engine.HelperSpec {
	repoURL := c.Repo.URL
	var mounts []mount.Mount
	var binds []string
	switch {
	case c.Repo.Local && c.Repo.CreateFolder && !strings.Contains(c.Repo.URL, ":"):
		// The Binds form creates a missing folder on every engine version; the Mounts
		// API does so only from API 1.44 (CreateMountpoint), and never before.
		repoURL = localRepoPath
		binds = append(binds, c.Repo.URL+":"+localRepoPath)
	case c.Repo.Local:
		repoURL = localRepoPath
		m := mount.Mount{Type: mount.TypeBind, Source: c.Repo.URL, Target: localRepoPath}
		if c.Repo.CreateFolder {
			// A colon does not fit the Binds form.
			m.BindOptions = &mount.BindOptions{CreateMountpoint: true}
		}
		mounts = append(mounts, m)
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
	entrypoint, socket := socketEntrypoint(inv.Kind)
	switch {
	case socket:
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: c.socket(), Target: agent.EngineSocket})
	case c.servedFrom && c.readsSource(inv):
		entrypoint = servedEntrypoint
	case inv.Before != "":
		entrypoint = []string{agentimage.Binary, agent.Command, inv.Before}
	case inv.Held:
		entrypoint = HeldResticEntrypoint
	default:
		entrypoint = ResticEntrypoint
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
	var aws bytes.Buffer
	secret := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(c.Repo.Env)) {
		v := c.Repo.Env[k]
		switch {
		case slices.Contains(awsSecretKeys, k):
			fmt.Fprintf(&aws, "%s = %s\n", strings.ToLower(k), v)
		case composeext.IsSecretSetting(k):
			secret[k] = v
		default:
			env = append(env, k+"="+v)
		}
	}
	if len(secret) > 0 {
		// restic reads these only from its environment: the agent sets them from a file
		// before it runs restic, so they never show in `docker inspect`.
		data, _ := json.Marshal(secret) // a map of strings always marshals
		files = append(files, engine.File{Path: agent.EnvFile, Mode: 0o400, Data: data})
	}
	for _, f := range inv.Files {
		files = append(files, engine.File{Path: f.Path, Mode: f.Mode, Data: f.Data})
	}
	if c.readsSource(inv) {
		srcMounts, srcFiles := c.sourceParts()
		mounts = append(mounts, srcMounts...)
		files = append(files, srcFiles...)
	}
	if socket {
		files = append(files, c.socketFiles()...)
	}
	if aws.Len() > 0 {
		files = append(files, engine.File{Path: awsCredentialsDir, Mode: 0o400, Data: append([]byte("[default]\n"), aws.Bytes()...)})
		env = append(env, "AWS_SHARED_CREDENTIALS_FILE="+awsCredentialsDir, "AWS_PROFILE=default")
	}
	what := inv.Service
	if what == "" {
		what = inv.Kind
	}
	hostname := "docker-backup"
	if c.RunID != "" {
		hostname = helperHostname(c.RunID)
	}
	return engine.HelperSpec{
		Name:        helperName(c.Project, what),
		Image:       c.Image,
		Entrypoint:  entrypoint,
		Cmd:         restic.WithRetryLock(inv.Args, c.RetryLock),
		Env:         env,
		Mounts:      mounts,
		Binds:       binds,
		Labels:      c.Labels(inv.Service, inv.Kind),
		Hostname:    hostname,
		NetworkMode: c.network(),
		// restic must not be PID 1: see helperHostname.
		Init:  true,
		Files: files,
		Stdin: inv.Stdin,
		// A socket helper works on its own: its held input tells it when this process
		// has gone, and it then ends its exec and restic without committing.
		// So does a held restic (restic.Invocation.Held): it is stopped, and removes
		// its locks, when this process has gone.
		HoldStdin: (socket || inv.Held) && inv.Stdin == nil,
		Stdout:    inv.Stdout,
	}
}

// ForDeadRun runs restic as the dead run's own hostname but with restic as PID 1 of its
// container, for `restic unlock`: restic's stale test then finds that the dead run's
// process (never PID 1, see helperSpec) does not exist, and removes that run's locks
// and no others.
func (c *Runner) ForDeadRun(runID string) restic.Runner {
	return &deadRunRunner{c: c, deadRun: runID}
}

type deadRunRunner struct {
	c       *Runner
	deadRun string
}

func (u *deadRunRunner) Run(ctx context.Context, inv restic.Invocation) error {
	spec := u.c.helperSpec(inv)
	spec.Hostname = helperHostname(u.deadRun)
	spec.Init = false
	stderr := &engine.Tail{Max: 8 << 10}
	spec.Stderr = stderr
	code, err := engine.RunHelper(ctx, u.c.API, spec)
	if err != nil {
		return u.c.missingFolder(err)
	}
	return restic.ErrorForExit(code, stderr.String())
}
