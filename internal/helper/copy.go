package helper

import (
	"fmt"
	"maps"
	"slices"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// Paths of the source repository in a helper that copies from it.
const (
	fromRepositoryFile = secretsDir + "/from-repository"
	fromPasswordFile   = secretsDir + "/from-password"
	fromLocalPath      = "/from-repo"
)

// FromRepository is how restic finds the source repository in a copy runner's helpers.
var FromRepository = restic.FromRepository{RepositoryFile: fromRepositoryFile, PasswordFile: fromPasswordFile}

// CopyRunner returns a runner of the copy repository dst in c's run (its helpers carry
// the same run ID, so recovery finds them): the helpers of its invocations that read a
// second repository (restic.KindCopy, restic.KindInitFrom) also get c's repository,
// the source: a folder mounted at /from-repo (writable: restic's read lock is a file in
// it), its URL and password as files, as c's own are. restic reads one environment for
// both repositories, so both repositories' backend settings are given, and a setting
// both set differently is refused (two accounts of one backend cannot be told apart).
func (c *Runner) CopyRunner(dst Repo) (*Runner, error) {
	// Two repositories of one backend with different credentials: the agent serves
	// the source with its own (copyfrom.go), and restic gets the copy's only.
	served, err := NeedsServedSource(c.Repo, dst)
	if err != nil {
		return nil, err
	}
	env := maps.Clone(c.Repo.Env)
	if env == nil || served {
		env = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(dst.Env)) {
		if v, both := env[k]; both && v != dst.Env[k] {
			return nil, fmt.Errorf("%s is set for the primary repository and for the copy, differently: restic reads one backend environment for both repositories of a copy", k)
		}
		env[k] = dst.Env[k]
	}
	out := &Runner{
		API: c.API, Image: c.Image, Project: c.Project, CacheVolume: c.CacheVolume,
		Network: c.Network, RetryLock: c.RetryLock, Engine: c.Engine, RunID: c.RunID,
		DockerSocket: c.DockerSocket, DockerSocketSetting: c.DockerSocketSetting, DockerSocketNote: c.DockerSocketNote,
		NodeSocket: c.NodeSocket,
	}
	out.Repo = dst
	out.Repo.Env = env
	src := c.Repo
	out.from = &src
	out.servedFrom = served
	return out, nil
}

// readsSource reports whether an invocation of the runner reads its source repository.
func (c *Runner) readsSource(inv restic.Invocation) bool {
	return c.from != nil && (inv.Kind == restic.KindCopy || inv.Kind == restic.KindInitFrom)
}

// sourceParts are the mounts and files that give a helper the source repository.
func (c *Runner) sourceParts() ([]mount.Mount, []engine.File) {
	if c.servedFrom {
		return nil, servedSourceParts(*c.from)
	}
	url := c.from.URL
	var mounts []mount.Mount
	if c.from.Local {
		url = fromLocalPath
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: c.from.URL, Target: fromLocalPath})
	}
	return mounts, []engine.File{
		{Path: fromRepositoryFile, Mode: 0o400, Data: []byte(url + "\n")},
		{Path: fromPasswordFile, Mode: 0o400, Data: c.from.Password},
	}
}
