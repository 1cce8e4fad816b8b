package helper

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// backendSettings are the environment variables of each backend type that restic
// reads for every repository of that type in a process: the types whose credentials
// a copy between two repositories of the type cannot tell apart.
var backendSettings = map[string][]string{
	"s3":    {"AWS_"},
	"b2":    {"B2_"},
	"azure": {"AZURE_"},
	"gs":    {"GOOGLE_"},
	"swift": {"OS_", "ST_"},
}

// servedBackends are the backend types whose source the agent can serve.
var servedBackends = []string{"s3"}

// BackendType is a repository's restic backend type: "local" for a folder, else the
// word before the address's first colon (s3, b2, rest, sftp…).
func BackendType(r Repo) string {
	if r.Local {
		return "local"
	}
	typ, _, ok := strings.Cut(r.URL, ":")
	if !ok {
		return "local"
	}
	return typ
}

// NeedsServedSource reports whether a copy from src into dst needs its source served
// by the agent: both are of one backend type that reads its credentials from the
// environment, and their settings of that backend differ (restic alone would open
// both with one set). It fails for such a pair of a type the agent does not serve.
// Every other pair copies with restic alone, the source's settings beside the
// destination's in one environment.
func NeedsServedSource(src, dst Repo) (bool, error) {
	typ := BackendType(src)
	prefixes, ok := backendSettings[typ]
	if !ok || typ != BackendType(dst) {
		return false, nil
	}
	if maps.Equal(backendEnv(src.Env, prefixes), backendEnv(dst.Env, prefixes)) {
		return false, nil
	}
	if !slices.Contains(servedBackends, typ) {
		return false, fmt.Errorf("two %s: repositories with different credentials: a copy between them is served for s3: only (use one set of credentials, or a repository of another type)", typ)
	}
	return true, nil
}

// backendEnv is the part of env that a backend with those variable prefixes reads.
func backendEnv(env map[string]string, prefixes []string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	return out
}

// servedSourceParts are the files that give a helper a source the agent serves
// (agent.ServedCopyCommand): its address and backend settings (agent.FromSpecFile) and
// its password, never argv or environment. restic's own environment has the
// destination's settings only.
func servedSourceParts(src Repo) []engine.File {
	spec, _ := json.Marshal(agent.FromSpec{Repository: src.URL, Env: src.Env}) // strings always marshal
	return []engine.File{
		{Path: agent.FromSpecFile, Mode: 0o400, Data: spec},
		{Path: fromPasswordFile, Mode: 0o400, Data: src.Password},
	}
}

// servedEntrypoint is the entrypoint of a served copy's helpers: the agent, which
// serves the source on 127.0.0.1 and runs restic as its child, held (it stops restic,
// which removes its locks, when the helper's input ends).
var servedEntrypoint = []string{agentimage.Binary, agent.Command, agent.ServedCopyCommand}
