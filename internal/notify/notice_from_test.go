package notify

import (
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
)

// A drill of a copy repository (verify --from) says so: its alert is not the primary's.
func TestNoticeVerifyFromCopy(t *testing.T) {
	run := report.Run{Command: report.CommandVerify, Project: "shop", Machine: "vm-3f9a1c", From: "offsite", Started: time.Now(),
		Status: report.StatusFailed, Services: []report.Service{{Service: "db", Status: report.StatusFailed, Error: "no table"}}}
	ns := Notices(run)
	if len(ns) != 1 || ns[0].From != "offsite" {
		t.Fatalf("notices %+v, want one from offsite", ns)
	}
	if got, want := ns[0].Text(), "docker-backup shop@vm-3f9a1c: db verify from copy offsite FAILED: no table"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if got, want := Summary(run), "docker-backup shop@vm-3f9a1c: verify from copy offsite FAILED: db failed: no table"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
