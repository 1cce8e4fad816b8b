package schedule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
)

// lines collects log lines and signals each one.
type lines struct {
	mu  sync.Mutex
	all []string
	got chan string
}

func newLines() *lines { return &lines{got: make(chan string, 100)} }

func (l *lines) log(s string) {
	l.mu.Lock()
	l.all = append(l.all, s)
	l.mu.Unlock()
	l.got <- s
}

// await returns the first line holding want, failing after a while.
func (l *lines) await(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-l.got:
			if strings.Contains(s, want) {
				return s
			}
		case <-timeout:
			t.Fatalf("no log line with %q; got %q", want, l.all)
		}
	}
}

// TestTickDuringARunIsSkipped: a job that runs past the next tick makes that tick
// skipped and logged; once the job returns, the next tick runs again; stopping the
// scheduler ends the job in progress through its context, and Run returns after it.
func TestTickDuringARunIsSkipped(t *testing.T) {
	l := newLines()
	release := make(chan struct{})
	var mu sync.Mutex
	runs, skipped := 0, 0
	var ended []report.Status
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	job := Job{Name: "up", Spec: "@every 1s", Run: func(ctx context.Context) report.Run {
		mu.Lock()
		runs++
		n := runs
		mu.Unlock()
		if n == 1 {
			<-release
		}
		if n == 3 {
			<-ctx.Done()
			return report.Run{Command: "up", Status: report.StatusFailed, Error: "interrupted"}
		}
		return report.Run{Command: "up", Status: report.StatusOK}
	}}
	go func() {
		done <- Run(ctx, Options{Jobs: []Job{job}, Log: l.log,
			Skipped: func(string, time.Time) { mu.Lock(); skipped++; mu.Unlock() },
			Done: func(_ string, r report.Run, next map[string]time.Time) {
				mu.Lock()
				ended = append(ended, r.Status)
				mu.Unlock()
				if next["up"].IsZero() {
					t.Errorf("no next tick given with the outcome")
				}
			}})
	}()
	l.await(t, "up: started")
	skip := l.await(t, "skipped")
	if !strings.Contains(skip, "up started at") || !strings.Contains(skip, "still running") {
		t.Errorf("skip line = %q", skip)
	}
	close(release)
	l.await(t, "up: ok in")
	l.await(t, "up: ok in") // the second run
	l.await(t, "up: started")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if runs != 3 || skipped < 1 {
		t.Errorf("runs = %d, skipped = %d; want 3 runs and at least one skip", runs, skipped)
	}
	if len(ended) != 3 || ended[2] != report.StatusFailed {
		t.Errorf("outcomes = %v: Run returned before the job in progress ended", ended)
	}
}

func TestBadSpec(t *testing.T) {
	err := Run(context.Background(), Options{Jobs: []Job{{Name: "up", Spec: "every day"}}})
	if err == nil || !strings.Contains(err.Error(), `schedule of up "every day"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestTrackerRecordsRuns: a failed service keeps its last success; the file is
// written after each change and reads back.
func TestTrackerRecordsRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "scheduler.json")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tr := NewTracker(path, "shop", []Job{{Name: "up", Spec: "* * * * *"}}, t0)
	next := map[string]time.Time{"up": t0.Add(time.Minute)}
	if err := tr.Done("up", report.Run{Command: "up", Machine: "m1", Started: t0, Status: report.StatusOK, Services: []report.Service{
		{Service: "db", Status: report.StatusOK, Snapshot: "aaa"}, {Service: "web", Status: report.StatusSkipped},
	}}, next); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Minute)
	if err := tr.Done("up", report.Run{Command: "up", Started: t1, Status: report.StatusFailed, Error: "x", Services: []report.Service{
		{Service: "db", Status: report.StatusFailed, Error: "dump exited 1"},
	}}, map[string]time.Time{"up": t1.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseState(data)
	if err != nil {
		t.Fatal(err)
	}
	db := s.Services["db"]
	if !db.LastRun.Equal(t1) || db.LastStatus != report.StatusFailed || !db.LastSuccess.Equal(t0) || db.LastSnapshot != "aaa" || db.LastError != "dump exited 1" {
		t.Errorf("db = %+v", db)
	}
	if _, ok := s.Services["web"]; ok {
		t.Errorf("a skipped service is recorded: %+v", s.Services)
	}
	if up := s.Jobs["up"]; !up.Next.Equal(t1.Add(time.Minute)) || up.LastStatus != report.StatusFailed || up.Schedule != "* * * * *" {
		t.Errorf("up = %+v", up)
	}
	if s.Machine != "m1" || s.Project != "shop" {
		t.Errorf("state = %+v", s)
	}
}

// TestTrackerKilledMidRun: the run in progress and the services it began are in the
// file before they do anything; the next scheduler in the container carries the state
// forward, finds that run left, and records it interrupted with what recovery restarted.
func TestTrackerKilledMidRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scheduler.json")
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	jobs := []Job{{Name: "up", Spec: "0 3 * * *"}}
	tr := NewTracker(path, "shop", jobs, t0.Add(-time.Hour))
	if err := tr.Done("up", report.Run{Command: "up", Started: t0.Add(-24 * time.Hour), Status: report.StatusOK, Services: []report.Service{
		{Service: "db", Status: report.StatusOK, Snapshot: "old"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if tr.Left() != nil {
		t.Fatal("a first scheduler found a run left")
	}
	for _, err := range []error{tr.Started("up", t0), tr.ServiceStarted("db"), tr.ServiceStarted("files"),
		tr.ServiceDone(report.Service{Service: "db", Status: report.StatusOK, Snapshot: "new"})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Killed here. The next start:
	next := NewTracker(path, "shop", jobs, t0.Add(time.Hour))
	left := next.Left()
	if left == nil || left.Job != "up" || !left.Started.Equal(t0) || strings.Join(left.Began, ",") != "files" {
		t.Fatalf("left = %+v, want up of t0 with files under way", left)
	}
	again := t0.Add(time.Hour + time.Second)
	in := *left
	in.Cause, in.Found = "died", again
	in.Restarted = []Restart{{Service: "files", Container: "c1", At: again}}
	if err := next.Recovered(in); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseState(data)
	if err != nil {
		t.Fatal(err)
	}
	files, db, up := s.Services["files"], s.Services["db"], s.Jobs["up"]
	if files.LastStatus != report.StatusInterrupted || !files.LastRun.Equal(t0) || !files.StartedAgain.Equal(again) {
		t.Errorf("files = %+v", files)
	}
	if db.LastStatus != report.StatusOK || db.LastSnapshot != "new" {
		t.Errorf("db = %+v: its outcome, settled before the kill, is lost", db)
	}
	if up.LastStatus != report.StatusInterrupted || up.LastError != "died" || s.Running != "" || s.Interrupted == nil || len(s.Interrupted.Restarted) != 1 {
		t.Errorf("up = %+v, state = %+v", up, s)
	}
	if NewTracker(path, "shop", jobs, again).Left() != nil {
		t.Error("a recovered run is found again at the next start")
	}
	if NewTracker(path, "other", jobs, again).Snapshot().Interrupted != nil {
		t.Error("another project's state is carried forward")
	}
}

// A copy's outcome is its copies', by their names, never a service's; a copy job is
// recorded under its own name; a copy made after an up, without a job's end.
func TestTrackerRecordsCopies(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tr := NewTracker("", "shop", []Job{{Name: "up", Spec: "* * * * *"}, {Name: "copy offsite", Spec: "@daily"}}, t0)
	copyRun := func(at time.Time, status report.Status, errText string) report.Run {
		return report.Run{Command: report.CommandCopy, Started: at, Status: status, Error: errText, Services: []report.Service{
			{Service: "offsite", Status: status, Error: errText}, {Service: "usb", Status: report.StatusSkipped},
		}}
	}
	if err := tr.Done("copy offsite", copyRun(t0, report.StatusOK, ""), nil); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Hour)
	if err := tr.CopyDone(copyRun(t1, report.StatusFailed, "unreachable")); err != nil {
		t.Fatal(err)
	}
	s := tr.Snapshot()
	if len(s.Services) != 0 {
		t.Errorf("a copy made service states: %v", s.Services)
	}
	if j := s.Jobs["copy offsite"]; !j.LastRun.Equal(t0) || j.LastStatus != report.StatusOK {
		t.Errorf("job: %+v", j)
	}
	c := s.Copies["offsite"]
	if !c.LastRun.Equal(t1) || c.LastStatus != report.StatusFailed || c.LastError != "unreachable" || !c.LastSuccess.Equal(t0) {
		t.Errorf("copy state: %+v", c)
	}
	if _, ok := s.Copies["usb"]; ok {
		t.Error("a skipped copy was recorded")
	}
}
