package run

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/restic"
)

// With Overlap, Begin returns while the opening still runs; Opened says how it ended.
func TestBeginOverlapsTheOpening(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reply   enginetest.Reply
		err     error
		created bool
		cmds    []string
	}{
		{name: "an existing repository", reply: enginetest.Reply{Stdout: "[]"},
			cmds: []string{"snapshots --json --no-lock --host shop@m1 --tag project=shop,unconfirmed"}},
		{name: "a missing local repository is created", created: true,
			reply: enginetest.Reply{Stderr: "Fatal: repository does not exist: unable to open config file\n", Code: 10},
			cmds:  []string{"snapshots --json --no-lock --host shop@m1 --tag project=shop,unconfirmed", "init"}},
		{name: "a wrong password", reply: enginetest.Reply{Stderr: "Fatal: wrong password or no key found\n", Code: 12},
			err: restic.ErrWrongPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			release := make(chan struct{})
			f.rst.On("snapshots", func(enginetest.Call) enginetest.Reply { <-release; return tc.reply })
			o := f.options()
			o.Overlap = true
			r, err := Begin(context.Background(), o)
			if err != nil {
				close(release)
				t.Fatal(err)
			}
			if !r.Overlapped() {
				t.Error("Overlapped false with Options.Overlap and no dead run")
			}
			short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			if err := r.Opened(short); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Opened before the opening ended: %v, want it to wait", err)
			}
			cancel()
			close(release)
			if err := r.Opened(context.Background()); !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Opened: %v, want %v", err, tc.err)
			}
			if r.Created(context.Background()) != tc.created {
				t.Errorf("Created %v, want %v", !tc.created, tc.created)
			}
			r.End(context.Background())
			if tc.cmds != nil && !slices.Equal(f.rst.Commands(), tc.cmds) {
				t.Errorf("restic ran %q, want %q", f.rst.Commands(), tc.cmds)
			}
		})
	}
}

// The unconfirmed snapshots the overlapped opening found are forgotten by Settle, once
// the backups are done (forget takes the exclusive lock), not by Begin.
func TestSettleForgetsWhatTheOverlappedOpeningFound(t *testing.T) {
	f := newFixture(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: `[{"id":"aaaa1111ffff","short_id":"aaaa1111","hostname":"shop@m1","paths":["/db.sql"],"tags":["project=shop","service=db","strategy=dump","run=dead1","unconfirmed"]}]`})
	f.rst.Reply("forget", enginetest.Reply{Stdout: "[]"})
	o := f.options()
	o.Overlap = true
	r := f.begin(o)
	if err := r.Opened(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.rst.Find("forget"); len(got) != 0 {
		t.Fatalf("forget ran before Settle: %v", f.rst.Commands())
	}
	r.Settle(context.Background())
	r.Settle(context.Background())
	if got := f.rst.Find("forget"); len(got) != 1 || got[0].String() != "forget --json aaaa1111ffff" {
		t.Errorf("forget ran %v, want one forget of the unconfirmed snapshot", f.rst.Commands())
	}
}
