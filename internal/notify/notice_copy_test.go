package notify

import (
	"testing"

	"github.com/docker-backup/docker-backup/internal/report"
)

// A copy's notice names the copy repository, not a service's backup.
func TestNoticeTextCopy(t *testing.T) {
	n := Notice{Project: "shop", Machine: "vm-3f9a1c", Command: report.CommandCopy, Service: "offsite", Status: report.StatusFailed, Error: "wrong password"}
	if got, want := n.Text(), "docker-backup shop@vm-3f9a1c: copy to offsite FAILED: wrong password"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}
