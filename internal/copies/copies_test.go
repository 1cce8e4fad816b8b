package copies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/retention"
	"github.com/docker-backup/docker-backup/internal/snapshot"
	"github.com/docker-backup/docker-backup/restic"
)

// repo is a fake repository: restic's answers by command, and what was asked.
type repo struct {
	// drop are the IDs forget removes (else two that are not there).
	drop   []string
	exists bool
	snaps  []restic.Snapshot
	errs   map[string]error
	argv   []string
}

func (r *repo) Run(_ context.Context, inv restic.Invocation) error {
	r.argv = append(r.argv, strings.Join(inv.Args, " "))
	cmd := inv.Args[0]
	if err := r.errs[cmd]; err != nil {
		return err
	}
	switch cmd {
	case "cat":
		if !r.exists {
			return restic.ErrRepoNotFound
		}
	case "init":
		r.exists = true
	case "snapshots":
		b, _ := json.Marshal(r.snaps)
		_, _ = inv.Stdout.Write(b)
	case "copy":
		for _, id := range inv.Args {
			if strings.HasPrefix(id, "src") {
				r.snaps = append(r.snaps, restic.Snapshot{ID: "c-" + id, Original: id})
				fmt.Fprintf(inv.Stdout, "snapshot %s of [/x] at now by @h\nsnapshot c-%s saved\n", id, id)
			}
		}
	case "forget":
		remove := []restic.Snapshot{{ID: "r1"}, {ID: "r2"}}
		if r.drop != nil {
			remove = nil
			for _, id := range r.drop {
				remove = append(remove, restic.Snapshot{ID: id})
			}
		}
		b, _ := json.Marshal([]restic.ForgetGroup{{Keep: []restic.Snapshot{{ID: "k"}}, Remove: remove}})
		_, _ = io.WriteString(inv.Stdout, string(b)+"\n")
	}
	return nil
}

func (r *repo) ran(prefix string) []string {
	var out []string
	for _, a := range r.argv {
		if strings.HasPrefix(a, prefix) {
			out = append(out, a)
		}
	}
	return out
}

type events struct{ lines []string }

func (e *events) Start(name string)     { e.lines = append(e.lines, name+": start") }
func (e *events) Step(name, msg string) { e.lines = append(e.lines, name+": "+msg) }
func (e *events) Done(r report.Result) {
	e.lines = append(e.lines, fmt.Sprintf("%s: %s", r.Service, r.Status))
}
func (e *events) Warn(msg string)      { e.lines = append(e.lines, "warning: "+msg) }
func (e *events) has(line string) bool { return strings.Contains(strings.Join(e.lines, "\n"), line) }

var id = snapshot.Identity{Project: "shop", Machine: "m1"}

func services() []composeext.ServicePlan {
	return []composeext.ServicePlan{
		{Name: "db", Strategy: composeext.StrategyDump, Retention: &retention.Policy{KeepLast: 7}},
		{Name: "files", Strategy: composeext.StrategyVolumes},
		{Name: "cache", Strategy: composeext.StrategyNone, Retention: &retention.Policy{KeepLast: 1}},
	}
}

// Each copy gets the confirmed snapshots it lacks and its retention keeps (asked of the
// source without a lock; one missing is created first with the source's chunker
// parameters), then its retention: its own policy for every service, or each service's;
// a copy that fails is its failure, and the next still runs.
func TestRun(t *testing.T) {
	source := &repo{exists: true, drop: []string{"src1"}, snaps: []restic.Snapshot{
		{ID: "src1"}, {ID: "src2", Tags: []string{snapshot.Unconfirmed}}, {ID: "src3"},
	}}
	fresh := &repo{}
	partial := &repo{exists: true, snaps: []restic.Snapshot{{ID: "c-src1", Original: "src1"}}}
	broken := &repo{exists: true, errs: map[string]error{"cat": &restic.ExitError{Code: 12, Message: "wrong password"}}}
	ev := &events{}
	results, err := Run(context.Background(), Env{Source: source, Identity: id, Services: services(), Reporter: ev}, []Target{
		{Copy: composeext.CopyPlan{Name: "fresh"}, Runner: fresh},
		{Copy: composeext.CopyPlan{Name: "broken"}, Runner: broken},
		{Copy: composeext.CopyPlan{Name: "nopw"}, Err: errors.New("reading the password: no such file")},
		{Copy: composeext.CopyPlan{Name: "partial", Retention: &retention.Policy{KeepLast: 1}}, Runner: partial},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := source.ran("")
	if !strings.HasPrefix(got[0], "snapshots --json --no-lock --host shop@m1 --host shop --tag project=shop") {
		t.Errorf("source ran %q, want one listing of this machine's series first", got)
	}
	// fresh asks of db's keep_last 7, partial of db's and files' keep_last 1; nothing
	// that writes or locks.
	if len(got) != 4 {
		t.Errorf("source ran %q, want the listing and 3 questions to forget", got)
	}
	for _, a := range got[1:] {
		if !strings.HasPrefix(a, "forget --json --dry-run --no-lock --group-by host,paths --host shop@m1 --host shop --tag project=shop,service=") {
			t.Errorf("source ran %q: want nothing but dry runs without a lock", a)
		}
	}
	if got := fresh.ran("init"); len(got) != 1 || !strings.Contains(got[0], "--copy-chunker-params") {
		t.Errorf("fresh copy: init %q", got)
	}
	if got := fresh.ran("copy"); len(got) != 1 || !strings.HasSuffix(got[0], "--from-password-file  src3") {
		t.Errorf("fresh copy: %q, want the one confirmed snapshot the policy keeps", got)
	}
	if got := partial.ran("copy"); len(got) != 1 || !strings.HasSuffix(got[0], "--from-password-file  src3") {
		t.Errorf("partial copy: %q, want src3 only", got)
	}
	if got := partial.ran("init"); len(got) != 0 {
		t.Errorf("an existing copy was created again: %q", got)
	}
	// Retention: the copy's own keep_last 1 for db and files; fresh keeps as each
	// service does (db's 7; files has none); strategy none is never forgotten.
	if got := partial.ran("forget"); len(got) != 2 || !strings.Contains(got[0], "--tag project=shop,service=db --keep-last 1") ||
		!strings.Contains(got[1], "service=files --keep-last 1") || !strings.Contains(got[0], "--group-by host,paths") {
		t.Errorf("partial's retention: %q", got)
	}
	if got := fresh.ran("forget"); len(got) != 1 || !strings.Contains(got[0], "service=db --keep-last 7") {
		t.Errorf("fresh's retention: %q", got)
	}
	want := []struct {
		status            report.Status
		copied, forgotten int
	}{{report.StatusOK, 1, 2}, {report.StatusFailed, 0, 0}, {report.StatusFailed, 0, 0}, {report.StatusOK, 1, 4}}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || r.Copied != w.copied || r.Forgotten != w.forgotten || r.Strategy != report.StrategyCopy {
			t.Errorf("%s: %s, %d copied, %d forgotten; want %s, %d, %d (%v)", r.Service, r.Status, r.Copied, r.Forgotten, w.status, w.copied, w.forgotten, r.Err)
		}
	}
	if e := results[1].Err; e == nil || !strings.Contains(e.Error(), "wrong password") {
		t.Errorf("broken: %v", e)
	}
	for _, line := range []string{"fresh: created", "fresh: copying 1 of 1 confirmed snapshot(s)", "fresh: copied 1/1 (snapshot c-src3)", "partial: copying 1 of 1"} {
		if !ev.has(line) {
			t.Errorf("events lack %q:\n%s", line, strings.Join(ev.lines, "\n"))
		}
	}
}

// With every series, the source and the copy are read for the whole project; an up to
// date copy runs no restic copy; a lock on the copy's retention is a warning.
func TestRunAllHostsUpToDate(t *testing.T) {
	source := &repo{exists: true, snaps: []restic.Snapshot{{ID: "src1"}}}
	held := &repo{exists: true, snaps: []restic.Snapshot{{ID: "c-src1", Original: "src1"}},
		errs: map[string]error{"forget": &restic.ExitError{Code: 11, Message: "repository is already locked"}}}
	ev := &events{}
	results, err := Run(context.Background(), Env{Source: source, Identity: id, AllHosts: true, Services: services(), Reporter: ev},
		[]Target{{Copy: composeext.CopyPlan{Name: "usb"}, Runner: held}})
	if err != nil {
		t.Fatal(err)
	}
	if got := source.ran(""); len(got) != 2 || strings.Contains(got[0]+got[1], "--host") {
		t.Errorf("source ran %q, want every host's series", got)
	}
	if got := held.ran("copy"); len(got) != 0 {
		t.Errorf("an up to date copy ran %q", got)
	}
	if r := results[0]; r.Status != report.StatusWarning || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "retention of db in the copy not applied") {
		t.Errorf("result %+v", r)
	}
	if !ev.has("usb: up to date") {
		t.Errorf("events: %q", ev.lines)
	}
}

// The source that cannot be listed is the run's failure.
func TestRunSourceFails(t *testing.T) {
	source := &repo{errs: map[string]error{"snapshots": &restic.ExitError{Code: 10, Message: "repository does not exist"}}}
	if _, err := Run(context.Background(), Env{Source: source, Identity: id, Reporter: &events{}}, []Target{{Copy: composeext.CopyPlan{Name: "x"}}}); err == nil {
		t.Error("no error")
	}
}

// silent is a repository that never answers: restic retrying a server that is down.
type silent struct{ repo }

func (s *silent) Run(ctx context.Context, inv restic.Invocation) error {
	s.argv = append(s.argv, strings.Join(inv.Args, " "))
	<-ctx.Done()
	return ctx.Err()
}

// A copy repository that does not answer its first request within ReachWithin fails in
// one line naming it; the next copy still runs, and the source is not touched.
func TestRunUnreachableCopy(t *testing.T) {
	src := &repo{exists: true, snaps: []restic.Snapshot{{ID: "src1", Tags: []string{"project=shop", "service=files"}}}}
	down, up := &silent{}, &repo{exists: true}
	ev := &events{}
	env := Env{Source: src, Identity: id, Services: services(), Reporter: ev, ReachWithin: 20 * time.Millisecond}
	res, err := Run(context.Background(), env, []Target{
		{Copy: composeext.CopyPlan{Name: "down", Repository: composeext.Repository{URL: "s3:http://127.0.0.1:9/b", Display: "s3:http://127.0.0.1:9/b"}}, Runner: down},
		{Copy: composeext.CopyPlan{Name: "offsite"}, Runner: up},
	})
	if err != nil || len(res) != 2 {
		t.Fatalf("Run: %v, %+v", err, res)
	}
	if res[0].Status != report.StatusFailed || !errors.Is(res[0].Err, ErrUnreachable) ||
		!strings.Contains(res[0].Err.Error(), "copy repository s3:http://127.0.0.1:9/b: not reachable within 20ms") {
		t.Errorf("down: %+v", res[0])
	}
	if len(down.argv) != 1 {
		t.Errorf("down was asked %q, want its open alone", down.argv)
	}
	if res[1].Status != report.StatusOK || len(up.ran("copy")) != 1 {
		t.Errorf("offsite: %+v, ran %q", res[1], up.argv)
	}
	for _, a := range src.argv {
		if strings.HasPrefix(a, "forget") && !strings.Contains(a, "--dry-run") {
			t.Errorf("the source was changed: %s", a)
		}
	}
}
