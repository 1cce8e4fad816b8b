//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCopyUnreachable: a copy repository whose server is down (an S3 address on a
// loopback port nobody listens on; restic would retry it for 15 minutes) fails `copy`
// in one line naming it, within a minute and a little, with exit code 1 and one failure
// notice naming it (a webhook on loopback); `status` names it not reachable, in about a
// minute too, and exits 1; the primary repository is untouched by it and `up` goes on
// backing up as before, with no notice.
func TestCopyUnreachable(t *testing.T) {
	t.Parallel()
	copyRepo := "s3:http://" + freeLoopbackAddr(t) + "/dbe2e/down"
	p := newCopyProject(t, "copy-schedule", copyRepo, passwordFile(t), "key-"+randomHex(4), randomHex(8))
	p.exec(t, "files", "sh", "-c", "echo upload > /srv/uploads/a.txt")
	repos := copyRepos{primary: filepath.Join(p.dir, "backups"), primaryPassword: filepath.Join(p.dir, "backups.key")}
	hooks := newReceiverOn(t, "127.0.0.1:0")
	run := func(args ...string) result {
		t.Helper()
		c := p.cmd(append([]string{"docker", "backup"}, args...))
		// The address is on this machine's loopback: the helpers use the host's network.
		c.env = append(c.env, "DOCKER_BACKUP_NETWORK=host", "HOOK_URL="+hooks.url+"/hook")
		start := time.Now()
		r := c.run()
		t.Logf("%s: exit code %d in %s", r.cmd, r.code, time.Since(start).Round(time.Millisecond))
		return r
	}
	if r := run("up"); r.code != 0 {
		t.Fatalf("up: %v", r)
	}
	before := len(repos.snapshots(t, false))

	start := time.Now()
	r := run("copy")
	took := time.Since(start)
	out := r.stdout + r.stderr
	if r.code != 1 || !strings.Contains(out, "offsite") || !strings.Contains(out, "not reachable within 1m0s") {
		t.Fatalf("copy to a server that is down: want exit code 1 and one line naming offsite, not reachable: %v", r)
	}
	if took > 3*time.Minute {
		t.Errorf("copy took %s to give up on a server that is down", took)
	}
	if n := strings.Count(out, "not reachable within"); n != 1 {
		t.Errorf("%d lines say it, want one:\n%s", n, out)
	}

	eventually(t, 30*time.Second, "the copy's failure notice", func() error {
		if n := len(hooks.notices(t)); n == 0 {
			return fmt.Errorf("no notice yet")
		}
		return nil
	})

	// status names the copy's problem, in about a minute as well, and exits 1.
	start = time.Now()
	st := run("status")
	if st.code != 1 || !strings.Contains(st.stdout+st.stderr, "not reachable within 1m0s") {
		t.Errorf("status with the copy's server down: want exit code 1 naming it not reachable: %v\n%s", st, st.stdout)
	}
	if took := time.Since(start); took > 3*time.Minute {
		t.Errorf("status took %s with the copy's server down", took)
	}

	if r := run("up"); r.code != 0 {
		t.Fatalf("up after the failed copy: %v", r)
	}
	notices := hooks.notices(t)
	if len(notices) != 1 || notices[0].Command != "copy" || notices[0].Service != "offsite" || notices[0].Status != "failed" ||
		!strings.Contains(notices[0].Error, "not reachable") {
		t.Errorf("notices %+v, want one: the copy offsite failed, not reachable", notices)
	}
	if after := len(repos.snapshots(t, false)); after <= before {
		t.Errorf("the primary holds %d snapshots after the second up, %d before", after, before)
	}
}
