package helper

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/restic"
)

// KindServedCopy is a copy (restic copy, or init --copy-chunker-params) whose source
// the agent serves inside the helper (agent.ServedCopyCommand): source and destination
// are of one backend type with different credentials.
const KindServedCopy = "copy-served"

// FromPasswordFile is where a copy's helper finds the source repository's password.
const FromPasswordFile = secretsDir + "/from-password"

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

// ServeSource makes inv, a restic copy or init with the copy's options but no
// --from-repo or --from-password-file, run with src served by the agent in the helper
// of the destination's runner: src's address and backend settings and its password
// reach the helper as files (agent.FromSpecFile, FromPasswordFile), never argv or
// environment, and restic's environment keeps only the destination's settings.
func ServeSource(src Repo, inv restic.Invocation) (restic.Invocation, error) {
	if len(inv.Args) == 0 {
		return inv, fmt.Errorf("serving the copy's source: no restic command")
	}
	spec, err := json.Marshal(agent.FromSpec{Repository: src.URL, Env: src.Env})
	if err != nil {
		return inv, fmt.Errorf("serving the copy's source: %w", err)
	}
	out := inv
	out.Args = append([]string{inv.Args[0], "--from-password-file", FromPasswordFile}, inv.Args[1:]...)
	out.Files = append(slices.Clone(inv.Files),
		restic.File{Path: agent.FromSpecFile, Mode: 0o400, Data: spec},
		restic.File{Path: FromPasswordFile, Mode: 0o400, Data: src.Password})
	out.Kind = KindServedCopy
	return out, nil
}

// servedEntrypoint is the entrypoint of a served copy's helper: the agent, which
// serves the source and runs restic as its child.
func servedEntrypoint(kind string) ([]string, bool) {
	if kind != KindServedCopy {
		return nil, false
	}
	return []string{agentimage.Binary, agent.Command, agent.ServedCopyCommand}, true
}
