package composeext

import (
	"github.com/compose-spec/compose-go/v2/types"
)

// dockerSocketKey is the key of the engine's socket for the dump helpers.
const dockerSocketKey = extensionKey + ".docker_socket"

// dockerSocket picks the engine's socket for the dump helpers (flag, environment, file,
// default) and says which setting gave it, so that a socket that turns out to be
// another engine's is reported against the very setting to change.
func dockerSocket(opts LoadOptions, project *types.Project, pd projectDecl) (socket, setting string, isDefault bool) {
	inFile := fileLocator(project.ComposeFiles)(dockerSocketKey) + ": " + dockerSocketKey
	switch env := project.Environment["DOCKER_BACKUP_DOCKER_SOCKET"]; {
	case opts.DockerSocket != "":
		return opts.DockerSocket, "--docker-socket", false
	case env != "":
		return env, "DOCKER_BACKUP_DOCKER_SOCKET", false
	case pd.DockerSocket != "":
		return pd.DockerSocket, inFile, false
	}
	return DefaultDockerSocket, inFile, true
}
