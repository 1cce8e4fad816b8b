//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// appendEnv adds lines to the project's .env.
func (p *project) appendEnv(t *testing.T, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(p.dir, ".env"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// showsAny returns the first of the values that s holds, or "".
func showsAny(s string, values ...string) string {
	for _, v := range values {
		if strings.Contains(s, v) {
			return v
		}
	}
	return ""
}

// TestSchedulePrintSecrets: `schedule --print` with SLACK_URL, HC_UUID and PG_PW set
// (a notify URL, a healthcheck's UUID, a database password: names that do not look like
// secrets) writes none of their values: with them in the environment only, it says in
// one line to put them in .env; with them in .env, it names them in a comment. Deployed
// as the README says, the scheduler's container holds none of them (inspect: Env,
// labels, everything), and it still sends its notices and pings, reading them from .env.
func TestSchedulePrintSecrets(t *testing.T) {
	t.Parallel()
	pgPW := "pg-" + randomHex(6)
	p := newPreparedProject(t, "secrets-print", func(p *project) { p.appendEnv(t, "PG_PW="+pgPW) })
	gw := p.gateway(t)
	hooks, pings := newReceiverOn(t, gw+":0"), newReceiverOn(t, gw+":0")
	hcUUID := "5e1c2a9e-" + randomHex(4) + "-4e1a-9c3b-" + randomHex(6)
	slackURL := hooks.url + "/services/T" + randomHex(5) + "/B" + randomHex(5)
	secrets := []string{slackURL, hcUUID, pgPW}
	environ := []string{"SLACK_URL=" + slackURL, "HC_UUID=" + hcUUID, "HC_BASE=" + pings.url, "PG_PW=" + pgPW}

	print := func() result {
		c := p.cmd([]string{"docker", "backup", "schedule", "--print"})
		c.env = append(c.env, environ...)
		r := c.run()
		t.Logf("%s: exit code %d\n%s", r.cmd, r.code, r.stderr)
		if r.code != 0 {
			t.Fatalf("schedule --print: %v", r)
		}
		if v := showsAny(r.stdout+r.stderr, secrets...); v != "" {
			t.Errorf("schedule --print shows %q:\n%s\n%s", v, r.stdout, r.stderr)
		}
		return r
	}

	// Set here only (but PG_PW, which the database needs in .env): one line says what
	// to provide, and where.
	r := print()
	var warnings []string
	for _, l := range lines(r.stderr) {
		if strings.HasPrefix(l, "warning: ") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "SLACK_URL (x-backup.notify[0].url)") || !strings.Contains(warnings[0], "HC_UUID") || !strings.Contains(warnings[0], filepath.Join(p.dir, ".env")) ||
		strings.Contains(warnings[0], "PG_PW") {
		t.Errorf("want one warning naming SLACK_URL and HC_UUID (not PG_PW, in .env) and .env, got %q", warnings)
	}

	// As the README says: in .env, which the scheduler reads.
	p.appendEnv(t, environ[:3]...)
	r = print()
	if strings.Contains(r.stderr, "warning:") {
		t.Errorf("a warning with every secret in .env:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "never written here: HC_BASE, HC_UUID, PG_PW, SLACK_URL.") {
		t.Errorf("the file does not say which secrets the scheduler reads from .env:\n%s", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "compose.backup.yaml"), []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	up := p.cmd(append(append([]string{}, env.compose...), "-f", "compose.yaml", "-f", "compose.backup.yaml", "up", "-d", schedulerService))
	if r := up.run(); r.code != 0 {
		t.Fatalf("starting the scheduler: %v", r)
	}
	id := p.container(t, schedulerService)
	t.Cleanup(func() { t.Logf("the scheduler's log:\n%s", schedulerLog(t, id)) })
	inspect := mustDocker(t, "inspect", id)
	if v := showsAny(inspect, secrets...); v != "" {
		t.Errorf("docker inspect of the scheduler shows %q", v)
	}
	t.Logf("the scheduler's environment: %s", mustDocker(t, "inspect", "--format", "{{json .Config.Env}}", id))

	// Its notices and pings: it found the URLs in .env.
	awaitLog(t, id, "schedule: up: ok in", 1, scheduleWait)
	eventually(t, 30*time.Second, "the notice and the closing ping of the first run", func() error {
		if n, m := len(hooks.notices(t)), len(pings.requests()); n < 1 || m < 2 {
			return fmt.Errorf("%d notices, %d pings", n, m)
		}
		return nil
	})
	n := hooks.notices(t)[0]
	t.Logf("notice: %+v", n)
	if n.Service != "db" || n.Status != "ok" || n.Snapshot == "" {
		t.Errorf("notice %+v, want db ok with its snapshot", n)
	}
	if got := hooks.requests()[0].path; !strings.HasPrefix(slackURL, hooks.url+got) {
		t.Errorf("the notice went to %s, not SLACK_URL's path", got)
	}
	if got := pings.requests(); got[0].path != "/ping/"+hcUUID+"/start" || got[1].path != "/ping/"+hcUUID {
		t.Errorf("pings %+v, want /ping/<HC_UUID>/start then /ping/<HC_UUID>", got)
	}
	if v := showsAny(schedulerLog(t, id), secrets...); v != "" {
		t.Errorf("the scheduler's log shows %q", v)
	}
}

// TestDumpSecretsMasked: a dump that fails printing on stderr the root password of its
// container (a value the compose file no longer holds: .env changed since the container
// was created) and a DSN with a two-letter password: neither reaches the console,
// up --json, the webhook's body or the healthcheck's /fail ping, which still say what
// went wrong.
func TestDumpSecretsMasked(t *testing.T) {
	t.Parallel()
	oldPW, newPW := "r00t-"+randomHex(6), "r00t-"+randomHex(6)
	p := newPreparedProject(t, "secrets-dump", func(p *project) { p.appendEnv(t, "ROOT_PW="+oldPW) })
	if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte("ROOT_PW="+newPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hook, health := newReceiver(t), newReceiver(t)
	secrets := []string{oldPW, newPW, "app:pw@"}
	for _, args := range [][]string{{"up"}, {"up", "--json"}} {
		c := p.cmd(append([]string{"docker", "backup"}, args...))
		c.env = append(c.env, "NOTIFY_URL="+hook.url+"/hook", "HEALTHCHECK_URL="+health.url+"/ping/e2e")
		r := c.run()
		t.Logf("%s: exit code %d\nstdout:\n%s\nstderr:\n%s", r.cmd, r.code, r.stdout, r.stderr)
		if r.code != 1 {
			t.Fatalf("%s: exit code %d, want 1 (the dump fails)", r.cmd, r.code)
		}
		if v := showsAny(r.stdout+r.stderr, secrets...); v != "" {
			t.Errorf("%s shows %q", r.cmd, v)
		}
		if !strings.Contains(r.stdout+r.stderr, "postgres://app:***@db/app") || !strings.Contains(r.stdout+r.stderr, "access denied for root with ***") {
			t.Errorf("%s does not say what went wrong, masked", r.cmd)
		}
	}
	eventually(t, 30*time.Second, "two notices and two /fail pings", func() error {
		var fails int
		for _, r := range health.requests() {
			if strings.HasSuffix(r.path, "/fail") {
				fails++
			}
		}
		if n := len(hook.requests()); n < 2 || fails < 2 {
			return fmt.Errorf("%d notices, %d /fail pings", n, fails)
		}
		return nil
	})
	for _, req := range append(hook.requests(), health.requests()...) {
		if v := showsAny(req.body, secrets...); v != "" {
			t.Errorf("%s got %q: %s", req.path, v, req.body)
		}
	}
	n := hook.notices(t)[0]
	t.Logf("notice: %+v", n)
	if n.Service != "leaky" || n.Status != "failed" || !strings.Contains(n.Error, "postgres://app:***@db/app") {
		t.Errorf("notice %+v, want leaky failed with the masked DSN", n)
	}
	for _, r := range health.requests() {
		if strings.HasSuffix(r.path, "/fail") {
			t.Logf("/fail ping: %s", r.body)
			if !strings.Contains(r.body, "leaky failed") {
				t.Errorf("the /fail ping %q does not name the failed service", r.body)
			}
		}
	}
}
