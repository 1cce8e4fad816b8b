package run

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

// KindAnchor is the kind of a run's anchor container.
const KindAnchor = "run"

// uninterruptible are the helper kinds recovery lets finish instead of stopping them:
// stopping a swap half-way would leave a volume neither old nor new.
var uninterruptible = map[string]bool{kindSwap: true}

// NewID returns a new run ID: 10 hex digits.
func NewID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// helperHostname is the hostname of every helper of a run. restic records it in its
// locks; its own stale-lock test removes a lock only when it was made on the same
// hostname by a process that no longer exists, so one hostname per run lets recovery
// clear exactly a dead run's locks, and nobody else's.
func helperHostname(runID string) string { return "docker-backup-" + runID }

// anchorName is the container name that makes runs of one project exclude each other:
// the engine lets only one container have it.
func anchorName(project string) string { return "docker-backup-run." + project }

// helperName is unique and says whose helper it is: <project>-backup-<what>-<random>.
func helperName(project, what string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.Trim(project+"-backup-"+what, "-") + "-" + hex.EncodeToString(b[:])
}

// recordName names the stop record of a container.
func recordName(runID, containerID string) string {
	return "docker-backup-stopped-" + runID + "-" + containerID[:min(12, len(containerID))]
}
