package helper

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Our labels, on every container and volume a run creates. They are the one record of
// what belongs to which run, so recovery can tell a dead run's leftovers from a live
// run's work.
const (
	// LabelProject is the compose project a run works for.
	LabelProject = "io.docker-backup.project"
	// LabelRun is the ID of the run that created the container or volume.
	LabelRun = "io.docker-backup.run"
	// LabelHelper marks every helper container (restic and file helpers).
	LabelHelper = "io.docker-backup.helper"
	// LabelService is the service a helper or volume is for.
	LabelService = "io.docker-backup.service"
	// LabelKind says what a container is: run (a run's anchor), backup, dump, restore…
	LabelKind = "io.docker-backup.kind"
	// LabelRepository identifies the repository a helper opens (a hash, never the URL).
	LabelRepository = "io.docker-backup.repository"
	// LabelCommand and LabelClient say, on an anchor, what runs and from where.
	LabelCommand = "io.docker-backup.command"
	LabelClient  = "io.docker-backup.client"
	// LabelStopped is on a stop record: the ID of the service container the run stopped.
	LabelStopped = "io.docker-backup.stopped"
	// LabelTemporary marks a volume the run removes at its end (a staging volume); a
	// dead run's are removed by recovery.
	LabelTemporary = "io.docker-backup.temporary"
	// LabelKept marks what a run left for the user to inspect (verify --keep):
	// recovery leaves it alone.
	LabelKept = "io.docker-backup.kept"
)

// Labels of a restore's swap records volume: the one place its journals are kept. Only
// swap helpers mount it; no service does, so nothing a service writes can steer a swap.
const (
	// LabelSwap is the swap's nonce (the restore's marker).
	LabelSwap = "io.docker-backup.swap"
	// LabelSwapTargets is what the swap replaces, as JSON []SwapTarget: recovery finds
	// a killed swap's mounts here, in engine state written by the run, and checks each
	// named volume's own labels before it mounts anything.
	LabelSwapTargets = "io.docker-backup.swap.targets"
	// LabelStaging marks a staging volume: <project>/<service>/<key>.
	LabelStaging = "io.docker-backup.staging"
	// LabelRollback marks a rollback volume with the live volume (or host folder) whose
	// previous content it keeps.
	LabelRollback = "io.docker-backup.rollback"
)

// KindAnchor is the kind of a run's anchor container.
const KindAnchor = "run"

// helperHostname is the hostname of every helper of a run. restic records it in its
// locks; its own stale-lock test removes a lock only when it was made on the same
// hostname by a process that no longer exists, so one hostname per run lets recovery
// clear exactly a dead run's locks, and nobody else's.
func helperHostname(runID string) string { return "docker-backup-" + runID }

// helperName is unique and says whose helper it is: <project>-backup-<what>-<random>.
func helperName(project, what string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.Trim(project+"-backup-"+what, "-") + "-" + hex.EncodeToString(b[:])
}

// jobNameMax bounds a job's name before its random part: swarm names (a job's, and its
// secrets' <name>-<i>) are at most 64 characters.
const jobNameMax = 50

// jobName names a job of project as helperName does, shortened to fit swarm's names.
func jobName(project, what string) string {
	base := strings.Trim(project+"-backup-"+what, "-")
	if len(base) > jobNameMax {
		base = strings.TrimRight(base[:jobNameMax], "-_.")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return base + "-" + hex.EncodeToString(b[:])
}
