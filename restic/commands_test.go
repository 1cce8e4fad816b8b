package restic

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeRunner records each invocation and replays restic's output: the restic package's
// own seam. Packages above it run restic through helper.Runner on enginetest's engine.
type fakeRunner struct {
	invs []Invocation
	// out and errs answer by command (the first argument).
	out  map[string]string
	errs map[string]error
}

func (f *fakeRunner) Run(_ context.Context, inv Invocation) error {
	f.invs = append(f.invs, inv)
	if inv.Stdout != nil {
		_, _ = io.WriteString(inv.Stdout, f.out[inv.Args[0]])
	}
	return f.errs[inv.Args[0]]
}

func (f *fakeRunner) argv() []string {
	var out []string
	for _, inv := range f.invs {
		out = append(out, strings.Join(inv.Args, " "))
	}
	return out
}

func TestSnapshotFilterArgs(t *testing.T) {
	for _, tc := range []struct {
		f    SnapshotFilter
		want []string
	}{
		{SnapshotFilter{}, nil},
		{SnapshotFilter{Hosts: []string{"shop@m1", "shop"}}, []string{"--host", "shop@m1", "--host", "shop"}},
		{SnapshotFilter{Tags: []string{"project=shop", "service=db"}}, []string{"--tag", "project=shop,service=db"}},
		{SnapshotFilter{Hosts: []string{"shop@m1"}, Tags: []string{"unconfirmed"}}, []string{"--host", "shop@m1", "--tag", "unconfirmed"}},
	} {
		if got := tc.f.args(); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestSnapshots(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"snapshots": `[{"id":"abcdef12","short_id":"abcdef12","time":"2026-01-10T10:00:00Z","hostname":"shop@m1","paths":["/db.sql"],"tags":["project=shop","unconfirmed"]}]` + "\n"}}
	snaps, err := Snapshots(context.Background(), r, SnapshotFilter{Hosts: []string{"shop@m1"}, Tags: []string{"project=shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || snaps[0].Hostname != "shop@m1" || snaps[0].Tag("project") != "shop" || snaps[0].Tag("unconfirmed") != "" {
		t.Errorf("snapshots %+v", snaps)
	}
	if got := r.argv(); !slices.Equal(got, []string{"snapshots --json --no-lock --host shop@m1 --tag project=shop"}) {
		t.Errorf("argv %v", got)
	}
	r.out["snapshots"] = "not json"
	if _, err := Snapshots(context.Background(), r, SnapshotFilter{}); err == nil {
		t.Error("unreadable output accepted")
	}
}

func TestForget(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    ForgetOptions
		want string
		err  string
	}{
		{name: "policy by group", o: ForgetOptions{Filter: SnapshotFilter{Hosts: []string{"shop@m1", "shop"}, Tags: []string{"project=shop", "service=db"}}, GroupBy: "host,paths", Keep: KeepPolicy{Last: 3, Daily: 7, Within: "2d"}, Prune: true},
			want: "forget --json --group-by host,paths --host shop@m1 --host shop --tag project=shop,service=db --keep-last 3 --keep-daily 7 --keep-within 2d --prune"},
		{name: "ids", o: ForgetOptions{IDs: []string{"aaa", "bbb"}, Keep: KeepPolicy{Last: 1}, Filter: SnapshotFilter{Hosts: []string{"ignored"}}},
			want: "forget --json aaa bbb"},
		{name: "dry run", o: ForgetOptions{Keep: KeepPolicy{Hourly: 2}, DryRun: true}, want: "forget --json --keep-hourly 2 --dry-run"},
		{name: "no policy", o: ForgetOptions{Filter: SnapshotFilter{Hosts: []string{"shop"}}}, err: "no retention policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &fakeRunner{out: map[string]string{"forget": `[{"host":"shop@m1","paths":["/db.sql"],"keep":[{"id":"k1"}],"remove":[{"id":"r1"}]}]` + "\nprune report\n"}}
			groups, err := Forget(context.Background(), r, tc.o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || len(r.invs) != 0 {
					t.Fatalf("err %v after %v, want %q before running restic", err, r.argv(), tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.argv(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("argv %v, want %q", got, tc.want)
			}
			if len(groups) != 1 || groups[0].Remove[0].ID != "r1" || groups[0].Keep[0].ID != "k1" {
				t.Errorf("groups %+v", groups)
			}
		})
	}
}

func TestUnlockNeverRemovesAll(t *testing.T) {
	r := &fakeRunner{}
	if err := Unlock(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := r.argv(); !slices.Equal(got, []string{"unlock"}) {
		t.Errorf("argv %v, want a plain unlock (never --remove-all)", got)
	}
	r.errs = map[string]error{"unlock": &ExitError{Code: 12}}
	if err := Unlock(context.Background(), r); !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "stale locks") {
		t.Errorf("err %v", err)
	}
}

func TestWithRetryLock(t *testing.T) {
	for _, tc := range []struct {
		args []string
		d    time.Duration
		want []string
	}{
		{[]string{"tag", "--json", "abc"}, 5 * time.Minute, []string{"tag", "--retry-lock", "5m0s", "--json", "abc"}},
		{[]string{"snapshots", "--json"}, 0, []string{"snapshots", "--json"}},
		{nil, time.Minute, nil},
	} {
		orig := slices.Clone(tc.args)
		if got := WithRetryLock(tc.args, tc.d); !slices.Equal(got, tc.want) {
			t.Errorf("WithRetryLock(%v, %s) = %v, want %v", tc.args, tc.d, got, tc.want)
		}
		if !slices.Equal(tc.args, orig) {
			t.Errorf("WithRetryLock changed its input: %v", tc.args)
		}
	}
}

func TestBackupArgvAndSummary(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"backup": `{"message_type":"status","percent_done":0.5}` + "\n" +
		`{"message_type":"summary","files_new":1,"snapshot_id":"abcdef1234567890"}` + "\n"}}
	var statuses int
	sum, err := Backup(context.Background(), r, BackupOptions{
		Service: "db", Kind: "dump", Host: "shop@m1", Tags: []string{"service=db"},
		Stdin: strings.NewReader("dump"), StdinFilename: "db.sql",
		Events: Events{Status: func(Status) { statuses++ }},
	})
	if err != nil || sum.SnapshotID != "abcdef1234567890" || statuses != 1 {
		t.Fatalf("summary %+v, %d statuses, err %v", sum, statuses, err)
	}
	want := "backup --json --host shop@m1 --tag service=db --stdin --stdin-filename db.sql"
	if got := r.argv(); !slices.Equal(got, []string{want}) {
		t.Errorf("argv %v, want %q", got, want)
	}
	if inv := r.invs[0]; inv.Service != "db" || inv.Kind != "dump" {
		t.Errorf("invocation for %q kind %q", inv.Service, inv.Kind)
	}
	r.out["backup"] = ""
	if _, err := Backup(context.Background(), r, BackupOptions{Host: "h", Paths: []string{"/backup/x"}}); !errors.Is(err, ErrFailed) {
		t.Errorf("a backup without a snapshot: %v, want ErrFailed", err)
	}
}

// A dry run is restic's --dry-run: its summary says what would have been stored.
func TestBackupDryRun(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"backup": `{"message_type":"summary","total_files_processed":0,"snapshot_id":"abcdef1234567890","dry_run":true}` + "\n"}}
	sum, err := Backup(context.Background(), r, BackupOptions{Host: "shop@swarm-abc", Paths: []string{"/backup/files/shop_files"}, DryRun: true})
	if err != nil || !sum.DryRun || sum.TotalFilesProcessed != 0 {
		t.Fatalf("summary %+v, err %v", sum, err)
	}
	if got := r.argv(); !slices.Equal(got, []string{"backup --json --host shop@swarm-abc --dry-run /backup/files/shop_files"}) {
		t.Errorf("argv %v", got)
	}
}
