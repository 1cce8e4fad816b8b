package run

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/docker-backup/docker-backup/internal/helper"
)

// uninterruptible are the helper kinds recovery lets finish instead of stopping them:
// stopping a swap half-way would leave a volume neither old nor new.
var uninterruptible = map[string]bool{helper.KindSwap: true}

// NewID returns a new run ID: 10 hex digits.
func NewID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// anchorName is the container name that makes runs of one project exclude each other:
// the engine lets only one container have it.
func anchorName(project string) string { return "docker-backup-run." + project }

// recordName names the stop record of a container.
func recordName(runID, containerID string) string {
	return "docker-backup-stopped-" + runID + "-" + containerID[:min(12, len(containerID))]
}
