package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/copies"
)

// A copy with a schedule of its own is a job of its own ("copy NAME"); the others are
// copied at the end of each scheduled up.
func TestSchedulerCopyJobs(t *testing.T) {
	plan := &composeext.Plan{Schedule: "@hourly", Copies: []composeext.CopyPlan{
		{Name: "nas"}, {Name: "offsite", Schedule: "0 4 * * *"}, {Name: "usb"},
	}}
	sc := &scheduler{}
	jobs, err := sc.jobs(plan)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name+"="+j.Spec)
	}
	if strings.Join(names, ",") != "up=@hourly,copy offsite=0 4 * * *" {
		t.Errorf("jobs: %v", names)
	}
	if !slices.Equal(sc.afterUp, []string{"nas", "usb"}) {
		t.Errorf("after up: %v", sc.afterUp)
	}
}

// The scheduler's container gets what copying needs outside the project folder: each
// copy's password file and folder repository, and the env files the plan reads.
func TestSchedulerMountsCarryTheCopies(t *testing.T) {
	plan := &composeext.Plan{WorkingDir: "/srv/shop", DockerSocket: "/var/run/docker.sock",
		ComposeFiles: []string{"/srv/shop/compose.yaml"}, ReadFiles: []string{"/etc/backup/offsite.env", "/srv/shop/x.env"},
		Copies: []composeext.CopyPlan{
			{Name: "offsite", Repository: composeext.Repository{URL: "s3:http://minio/b", PasswordFile: "/etc/backup/offsite.pw"}},
			{Name: "usb", Repository: composeext.Repository{URL: "/mnt/usb/shop", Local: true, PasswordFile: "/srv/shop/usb.pw"}},
		}}
	var got []string
	for _, m := range schedulerMounts(plan) {
		got = append(got, m.Source+map[bool]string{true: ":ro", false: ""}[m.ReadOnly])
	}
	want := []string{"/var/run/docker.sock", "/srv/shop", "/etc/backup/offsite.env:ro", "/etc/backup/offsite.pw:ro", "/mnt/usb/shop"}
	if !slices.Equal(got, want) {
		t.Errorf("mounts %v, want %v", got, want)
	}
}

// A copy that lags more than its max_lag, or cannot be read, is a problem of status.
func TestCopyProblems(t *testing.T) {
	c := composeext.CopyPlan{Name: "offsite", MaxLag: composeext.Duration(26 * time.Hour)}
	st := copies.Standing{Behind: 2, Oldest: time.Date(2026, 12, 1, 3, 0, 0, 0, time.Local), Lag: 27*time.Hour + 400*time.Millisecond}
	msg := lagProblem(c, st)
	if msg != "lags the primary by 27h0m0s, more than its max_lag 26h0m0s (2 confirmed snapshot(s) not copied, the oldest of 2026-12-01 03:00:00)" {
		t.Errorf("lag problem: %s", msg)
	}
	v := StatusView{Copies: []CopyStatus{{Copy: "nas"}, {Copy: "offsite", Problem: msg}}}
	if p := v.CopyProblems(); len(p) != 1 || !strings.HasPrefix(p[0], "copy offsite: lags") {
		t.Errorf("problems: %v", p)
	}
}
