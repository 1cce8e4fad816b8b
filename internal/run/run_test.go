package run

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/restic"
)

func TestBeginOpensTheRepository(t *testing.T) {
	missing := enginetest.Reply{Stderr: "Fatal: repository does not exist: unable to open config file\n", Code: 10}
	for _, tc := range []struct {
		name      string
		remote    bool
		initLocal bool
		listed    bool
		reply     enginetest.Reply
		err       error
		errText   string
		commands  []string
	}{
		{name: "an existing repository: one helper opens it, no lock is touched",
			initLocal: true, reply: enginetest.Reply{Stdout: "[]"},
			commands: []string{"snapshots --json --no-lock --host shop@m1 --tag project=shop,unconfirmed"}},
		{name: "listed by the caller (restore, verify): no restic process at all",
			listed: true, reply: missing, commands: nil},
		{name: "a missing local repository is created", initLocal: true, reply: missing,
			commands: []string{"snapshots --json --no-lock --host shop@m1 --tag project=shop,unconfirmed", "init"}},
		{name: "a missing local repository is not created without InitLocal", reply: missing,
			err: restic.ErrRepoNotFound, errText: "docker backup init"},
		{name: "a missing remote repository is refused", remote: true, initLocal: true, reply: missing,
			err: restic.ErrRepoNotFound, errText: "repository s3:host/bucket does not exist: create it with 'docker backup init'"},
		{name: "a wrong password", initLocal: true, reply: enginetest.Reply{Stderr: "Fatal: wrong password or no key found\n", Code: 12},
			err: restic.ErrWrongPassword, errText: "repository /srv/backups: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.rst.Reply("snapshots", tc.reply)
			o := f.options()
			o.InitLocal, o.Listed = tc.initLocal, tc.listed
			if tc.remote {
				o.Runner.Repo = helper.Repo{URL: "s3:host/bucket", Password: []byte("pw")}
				o.RepoDisplay = "s3:host/bucket"
			}
			r, err := Begin(context.Background(), o)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want %v saying %q", err, tc.err, tc.errText)
				}
				var missing *ErrNoRepository
				if errors.Is(tc.err, restic.ErrRepoNotFound) && !errors.As(err, &missing) {
					t.Errorf("err %T, want *ErrNoRepository", err)
				}
				if slices.Contains(f.rst.Commands(), "init") {
					t.Error("up created a repository it may not create")
				}
				if _, ok := f.eng.Container(anchorName("shop")); ok {
					t.Error("a run that failed to begin kept the project's anchor")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.End(context.Background())
			if got := f.rst.Commands(); !slices.Equal(got, tc.commands) {
				t.Errorf("restic ran %q, want %q", got, tc.commands)
			}
			if r.Created(context.Background()) {
				t.Error("Created true for an opening that was part of Begin: nothing overlapped it")
			}
		})
	}
}

// A helper of this run (all but the unlock of a dead run) runs restic under the
// engine's init with the run's own hostname, and carries the run's label.
func TestBeginHelpersCarryTheRunsIdentity(t *testing.T) {
	f := newFixture(t)
	r := f.begin(f.options())
	calls := f.rst.Calls()
	if len(calls) != 1 {
		t.Fatalf("restic ran %v, want one helper", f.rst.Commands())
	}
	h := calls[0].Helper
	if h.Config.Hostname != "docker-backup-"+r.ID || h.HostConfig.Init == nil || !*h.HostConfig.Init {
		t.Errorf("helper hostname %q, init %v: want docker-backup-%s under init", h.Config.Hostname, h.HostConfig.Init, r.ID)
	}
	if h.Labels()[helper.LabelRun] != r.ID || h.Labels()[helper.LabelProject] != "shop" || h.Labels()[helper.LabelHelper] != "true" {
		t.Errorf("helper labels %v", h.Labels())
	}
	if !strings.HasPrefix(h.Name, "shop-backup-snapshots-") {
		t.Errorf("helper name %q", h.Name)
	}
}

func TestBeginUnlocksEachDeadRunAsItsOwnHostname(t *testing.T) {
	f := newFixture(t)
	running := f.eng.AddContainer(enginetest.Seed{Name: "shop-backup-files-1", Labels: helperLabels("dead1", "files", "backup")})
	f.eng.AddContainer(enginetest.Seed{Name: "shop-backup-db-1", Labels: helperLabels("dead1", "db", "dump"), State: container.StateExited})
	f.eng.AddContainer(enginetest.Seed{Name: "shop-backup-db-2", Labels: helperLabels("dead2", "db", "dump"), State: container.StateExited})
	readOnly := f.eng.AddContainer(enginetest.Seed{Name: "shop-backup-snapshots-1", Labels: helperLabels("", "", "snapshots")})
	r := f.begin(f.options())

	unlocks := f.rst.Find("unlock")
	var hosts []string
	for _, c := range unlocks {
		hosts = append(hosts, c.Helper.Config.Hostname)
		if c.Helper.HostConfig.Init == nil || *c.Helper.HostConfig.Init {
			t.Errorf("unlock helper of %s runs under init: restic must be PID 1 there", c.Helper.Config.Hostname)
		}
		if c.String() != "unlock" {
			t.Errorf("unlock ran %q, want a plain unlock", c)
		}
		if c.Helper.Labels()[helper.LabelRun] != r.ID {
			t.Errorf("unlock helper labels %v, want this run's", c.Helper.Labels())
		}
	}
	slices.Sort(hosts)
	if !slices.Equal(hosts, []string{"docker-backup-dead1", "docker-backup-dead2"}) {
		t.Errorf("unlocks ran as %v, want one per dead run, as its hostname", hosts)
	}
	for _, c := range f.rst.Calls() {
		if c.Command() != "unlock" && (c.Helper.Config.Hostname != "docker-backup-"+r.ID || !*c.Helper.HostConfig.Init) {
			t.Errorf("%s ran as %q (init %v), want this run's hostname under init", c, c.Helper.Config.Hostname, *c.Helper.HostConfig.Init)
		}
	}
	// Recovery comes first: the dead run's helper no longer runs when its locks go.
	calls := f.eng.Calls()
	kill := slices.Index(calls, "kill "+running+" SIGINT")
	unlock := slices.IndexFunc(calls, func(s string) bool { return strings.HasPrefix(s, "create shop-backup-unlock-") })
	if kill < 0 || unlock < 0 || kill > unlock {
		t.Errorf("want the dead run's running helper interrupted, then its locks removed: %q", calls)
	}
	for _, c := range f.eng.Containers() {
		if c.Labels()[helper.LabelRun] == "dead1" || c.Labels()[helper.LabelRun] == "dead2" {
			t.Errorf("a dead run's helper is still there: %s", c.Name)
		}
	}
	if c, ok := f.eng.Container(readOnly); !ok || !c.Running() || len(c.Signals) != 0 {
		t.Errorf("a read-only command's helper was touched: %+v (found %v)", c, ok)
	}
}

func TestBeginWarnsWhenADeadRunsLocksStay(t *testing.T) {
	f := newFixture(t)
	f.eng.AddContainer(enginetest.Seed{Name: "h", Labels: helperLabels("dead1", "db", "dump"), State: container.StateExited})
	f.rst.Reply("unlock", enginetest.Reply{Stderr: "Fatal: wrong password or no key found\n", Code: 12})
	f.begin(f.options())
	if got := f.warned("could not remove the locks of interrupted run dead1"); len(got) != 1 {
		t.Errorf("warnings %q, want one about dead1's locks", f.warnings)
	}
}

func TestBeginForgetsUnconfirmedSnapshots(t *testing.T) {
	unconfirmed := `[{"id":"aaaa1111ffff","short_id":"aaaa1111","hostname":"shop@m1","paths":["/db.sql"],"tags":["project=shop","service=db","strategy=dump","run=dead1","unconfirmed"]}]`
	for _, tc := range []struct {
		name   string
		forget enginetest.Reply
		warn   string
		left   bool
	}{
		{"forgotten", enginetest.Reply{Stdout: "[]"}, "forgot snapshot db@aaaa1111", false},
		{"locked", enginetest.Reply{Stderr: lockedMessage, Code: 11}, "could not forget 1 unconfirmed snapshot", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.rst.Reply("snapshots", enginetest.Reply{Stdout: unconfirmed})
			f.rst.Reply("forget", tc.forget)
			r := f.begin(f.options())
			if r.UnconfirmedLeft() != tc.left {
				t.Errorf("UnconfirmedLeft %v, want %v: retention must wait while they remain", r.UnconfirmedLeft(), tc.left)
			}
			if got := f.rst.Find("forget"); len(got) != 1 || got[0].String() != "forget --json aaaa1111ffff" {
				t.Errorf("forget ran %v, want one forget of the unconfirmed snapshot", f.rst.Commands())
			}
			if len(f.warned(tc.warn)) != 1 {
				t.Errorf("warnings %q, want %q", f.warnings, tc.warn)
			}
		})
	}
}

// restic 0.18's words when another process holds the lock.
const lockedMessage = "unable to create lock in backend: repository is already locked exclusively by PID 7 on docker-backup-abc by root (UID 0, GID 0)\n" +
	"lock was created at 2026-11-25 14:20:00 (3.123456s ago)\nstorage ID 1234abcd\n"
