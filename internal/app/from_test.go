package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/internal/verify"
)

// copiesBlock declares copy offsite of project shop, in S3 with its own password and keys.
const copiesBlock = `  password_file: restic.pw
  copies:
    offsite:
      repository: s3:http://minio.example:9000/offsite/shop
      password_file: offsite.pw
      environment: {AWS_ACCESS_KEY_ID: offsite-id-never-shown, AWS_SECRET_ACCESS_KEY: offsite-key-never-shown}
`

// copyFixture is project shop with copy offsite.
func copyFixture(t *testing.T) *fixture {
	t.Helper()
	f := composeFixture(t, strings.Replace(projectCompose, "  password_file: restic.pw\n", copiesBlock, 1))
	if err := os.WriteFile(filepath.Join(f.dir, "offsite.pw"), []byte("offsite-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// copiedSnapshots are the copy's snapshots of app: c0de1111 copied from a1a1…, then
// c0de2222 from b2b2….
const copiedSnapshots = `[{"id":"c0de1111c0de1111","short_id":"c0de1111","time":"2026-01-10T10:00:00Z","hostname":"shop@prod","paths":["/backup/app/app"],"tags":["project=shop","service=app","strategy=volumes"],"original":"a1a1a1a1a1a1a1a1"},
{"id":"c0de2222c0de2222","short_id":"c0de2222","time":"2026-01-12T10:00:00Z","hostname":"shop@prod","paths":["/backup/app/app"],"tags":["project=shop","service=app","strategy=volumes"],"original":"b2b2b2b2b2b2b2b2"}]`

// checkReadsCopy checks that every restic helper read the copy repository with the
// copy's password and keys, in files, and never the primary.
func checkReadsCopy(t *testing.T, f *fixture) {
	t.Helper()
	calls := f.rst.Calls()
	if len(calls) == 0 {
		t.Fatal("no restic helper ran")
	}
	for _, c := range calls {
		files := c.Helper.Files
		if got := files["/run/docker-backup/repository"]; got != "s3:http://minio.example:9000/offsite/shop\n" {
			t.Errorf("restic %s read repository %q, want the copy's", c.Command(), got)
		}
		if got := files["/run/docker-backup/password"]; got != "offsite-pw\n" {
			t.Errorf("restic %s got password %q, want the copy's", c.Command(), got)
		}
		if !strings.Contains(files["/run/docker-backup/aws-credentials"], "offsite-key-never-shown") {
			t.Errorf("restic %s got no copy's keys in its credentials file: %q", c.Command(), files["/run/docker-backup/aws-credentials"])
		}
		seen := fmt.Sprint(c.Args, c.Helper.Config.Env, c.Helper.Config.Cmd, c.Helper.Config.Entrypoint)
		if strings.Contains(seen, "never-shown") || strings.Contains(seen, "offsite-pw") {
			t.Errorf("a copy's secret in restic's argv or environment: %s", seen)
		}
	}
}

// snapshots --from lists the copy's snapshots, each with its source's ID, read with the
// copy's settings only.
func TestSnapshotsFromCopy(t *testing.T) {
	f := copyFixture(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: copiedSnapshots})
	rows, err := f.app.Snapshots(context.Background(), f.load(), nil, "offsite", f.sink())
	if err != nil {
		t.Fatalf("snapshots --from offsite: %v", err)
	}
	if len(rows) != 2 || rows[0].ShortID != "c0de2222" || rows[0].Original != "b2b2b2b2b2b2b2b2" || rows[1].Original != "a1a1a1a1a1a1a1a1" {
		t.Errorf("rows %+v, want c0de2222 (from b2b2…) then c0de1111 (from a1a1…)", rows)
	}
	checkReadsCopy(t, f)
}

// restore --from selects in the copy, by the source's ID too, and says that it reads
// the copy before anything changes.
func TestRestoreFromCopyDryRun(t *testing.T) {
	for sel, want := range map[string]string{"latest": "c0de2222", "a1a1a1a1": "c0de1111", "c0de2": "c0de2222", "2026-01-11": "c0de1111"} {
		t.Run(sel, func(t *testing.T) {
			f := copyFixture(t)
			f.rst.Reply("snapshots", enginetest.Reply{Stdout: copiedSnapshots})
			steps, err := f.app.Restore(context.Background(), RestoreOptions{Load: f.load(), From: "offsite", DryRun: true,
				Targets: []restore.Target{{Service: "app", Snapshot: sel}}}, f.sink())
			if err != nil {
				t.Fatalf("restore --from offsite --dry-run app@%s: %v", sel, err)
			}
			if len(steps) == 0 || !strings.Contains(steps[0], "from copy offsite (s3:http://minio.example:9000/offsite/shop)") {
				t.Errorf("the dry run does not begin with the copy it reads: %q", steps)
			}
			if all := strings.Join(steps, "\n"); !strings.Contains(all, want) {
				t.Errorf("app@%s: steps name no %s:\n%s", sel, want, all)
			}
			checkReadsCopy(t, f)
		})
	}
}

// An unknown copy is one line naming x-backup.copies and the copies, a usage error,
// before any helper runs; for restore, verify and snapshots alike.
func TestFromUnknownCopy(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		fixture func(*testing.T) *fixture
		want    string
	}{
		"copies":    {copyFixture, "compose.yaml: x-backup.copies: no copy named usb for --from: its copies are offsite"},
		"no copies": {newFixture, "compose.yaml: x-backup.copies: no copy named usb for --from: it declares none"},
	} {
		t.Run(name, func(t *testing.T) {
			f := tc.fixture(t)
			_, rerr := f.app.Restore(ctx, RestoreOptions{Load: f.load(), From: "usb", Targets: []restore.Target{{Service: "app", Snapshot: "latest"}}}, f.sink())
			_, verr := f.app.Verify(ctx, VerifyOptions{Load: f.load(), From: "usb", Drill: verify.Options{}}, f.sink())
			_, serr := f.app.Snapshots(ctx, f.load(), nil, "usb", f.sink())
			for cmd, err := range map[string]error{"restore": rerr, "verify": verr, "snapshots": serr} {
				if err == nil || !errors.Is(err, ErrUsage) || err.Error() != tc.want {
					t.Errorf("%s --from usb: %v, want usage error %q", cmd, err, tc.want)
				}
			}
			if len(f.rst.Calls()) > 0 {
				t.Errorf("restic ran for an unknown copy: %q", f.rst.Commands())
			}
		})
	}
}

// On a swarm stack, a copy that is a folder (one machine's) is refused in one line
// naming its key, as a folder primary is.
func TestStackRestoreFromFolderCopy(t *testing.T) {
	compose := strings.Replace(stackS3Compose, "  password_file: restic.pw\n",
		"  password_file: restic.pw\n  copies:\n    usb:\n      repository: /mnt/usb/shop\n      password_file: restic.pw\n", 1)
	f, _ := stackS3FixtureOf(t, compose)
	_, err := f.app.Restore(context.Background(), RestoreOptions{Load: f.load(), From: "usb", Targets: []restore.Target{{Service: "cache"}}}, f.sink())
	if err == nil || !errors.Is(err, composeext.ErrInvalid) || !strings.HasPrefix(err.Error(), "compose.yaml: x-backup.copies.usb.repository: /mnt/usb/shop is a folder of one machine") {
		t.Fatalf("restore --from a folder copy on a stack: %v", err)
	}
	if c := f.eng.CallsWith("create", "service-create", "secret-create", "volume-create", "service-update"); len(c) > 0 {
		t.Errorf("a refused restore made %v", c)
	}
}
