//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// manyEntries is how many top-level entries TestSwapManyEntries restores: far past
// what one argument list holds.
const manyEntries = 120000

// TestSwapManyEntries restores a volume with 120,000 top-level entries over a live
// volume that holds other ones, and checks the count and a few contents.
func TestSwapManyEntries(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	// One exec makes them all: xargs hands touch thousands of names at a time.
	p.exec(t, "many", "sh", "-c", `set -e; cd /srv/many
seq 1 `+strconv.Itoa(manyEntries)+` | sed 's/^/f/' | xargs touch
for i in 1 777 `+strconv.Itoa(manyEntries)+`; do echo "content $i" > f$i; done
mkdir .hidden && echo dot > .hidden/x`)
	p.mustBackup(t, "up", "many")
	p.exec(t, "many", "sh", "-c", `cd /srv/many && find . -mindepth 1 -delete && echo junk > junk && echo edit > f1`)

	r := p.mustBackup(t, "restore", "many", "--yes")
	got := p.exec(t, "many", "sh", "-c", `cd /srv/many && ls -A | wc -l && cat f1 f777 f`+strconv.Itoa(manyEntries)+` .hidden/x && ls -A | grep -c -e '^junk$' -e docker-backup-staged || true`)
	want := strconv.Itoa(manyEntries+1) + "\ncontent 1\ncontent 777\ncontent " + strconv.Itoa(manyEntries) + "\ndot\n0\n"
	if got != want {
		t.Errorf("after the restore:\n%s\nwant:\n%s\n%s", got, want, r.stdout)
	}
	p.checkNothingLeft(t, true)
}

// TestSwapFileBind restores a bind-mounted file in place: the service sees the old
// content through its bind mount, and the rollback volume keeps the changed one.
func TestSwapFileBind(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	conf := filepath.Join(p.dir, "conf.txt")
	p.exec(t, "app", "sh", "-c", "echo kept > /srv/data/a")
	p.mustBackup(t, "up", "app")
	if err := os.WriteFile(conf, []byte("setting=changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := p.mustBackup(t, "restore", "app", "--yes")
	if got, _ := os.ReadFile(conf); string(got) != "setting=original\n" {
		t.Errorf("conf.txt on the host = %q after the restore\n%s", got, r.stdout)
	}
	if got := p.exec(t, "app", "cat", "/etc/app/conf.txt"); got != "setting=original\n" {
		t.Errorf("the service reads %q through its bind mount", got)
	}
	rollbacks := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label=io.docker-backup.rollback="+conf))
	if len(rollbacks) != 1 {
		t.Fatalf("want one rollback volume of %s, got %q", conf, rollbacks)
	}
	if got := mustDocker(t, "run", "--rm", "--network", "none", "-v", rollbacks[0]+":/r:ro", "--entrypoint", "cat", env.dbImage, "/r/etc-app-conf.txt"); got != "setting=changed\n" {
		t.Errorf("the rollback volume holds %q", got)
	}
	p.checkNothingLeft(t, true)
}

// TestSwapNoRollbackWithExclude: --no-rollback is refused for a service whose backups
// exclude paths, with one line and exit code 2, before anything runs.
func TestSwapNoRollbackWithExclude(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	p.exec(t, "cached", "sh", "-c", "mkdir -p /srv/cache/tmp && echo a > /srv/cache/a && echo t > /srv/cache/tmp/t")
	p.mustBackup(t, "up", "cached")
	r := p.backup(t, "restore", "cached", "--no-rollback", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "excludes tmp from its backups by pattern") || len(lines(r.stderr)) != 1 {
		t.Errorf("want exit code 2 and one line naming the exclude: %v", r)
	}
	if got := p.exec(t, "cached", "cat", "/srv/cache/tmp/t"); got != "t\n" {
		t.Errorf("the excluded file holds %q", got)
	}
	p.checkNothingLeft(t, false)
}

// TestSwapPreflightMissingVolume restores a service whose volume was removed: the
// preflight refuses it before anything is stopped or created, and the engine does not
// get to create the volume empty.
func TestSwapPreflightMissingVolume(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	p.exec(t, "cached", "sh", "-c", "echo a > /srv/cache/a")
	p.mustBackup(t, "up", "cached")
	live := p.volume(t, "cache")
	if r := p.compose(t, "rm", "-s", "-f", "cached"); r.code != 0 {
		t.Fatalf("%v", r)
	}
	mustDocker(t, "volume", "rm", live)
	r := p.backup(t, "restore", "cached", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "volume "+live+" does not exist") {
		t.Errorf("want exit code 1 saying the volume does not exist: %v", r)
	}
	if got := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "name="+live)); len(got) != 0 {
		t.Errorf("volumes %q exist after the refused restore", got)
	}
	p.checkNothingLeft(t, false)
}

// TestSwapStagingRemoved removes the staging volume between the verified restore and
// the swap, as a `docker container prune` and `docker volume prune` would: the plugin
// is paused (SIGSTOP) the moment its restore helper exits, the helper and the staging
// volume are removed, and the plugin resumes. The swap's helper mounts the staging
// volume by name, so the engine creates it again, empty: the swap must refuse it with
// one line and leave the live volume as it was.
func TestSwapStagingRemoved(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	p.exec(t, "app", "sh", "-c", "for i in 1 2 3; do echo $i > /srv/data/f$i; done")
	p.mustBackup(t, "up", "app")
	p.exec(t, "app", "sh", "-c", "echo live > /srv/data/f1 && rm /srv/data/f2")
	live := p.volume(t, "data")
	before := volumeTree(t, live)

	// The engine answers within milliseconds, the plugin too: if the swap was already
	// under way when the plugin stopped, the race is lost and the test tries again.
	for attempt := 1; ; attempt++ {
		r, won := p.restoreWithStagingRemoved(t)
		if !won {
			if attempt == 3 {
				t.Fatalf("the swap started before the plugin could be paused, 3 times")
			}
			t.Logf("attempt %d: the plugin was paused too late (%v); again", attempt, r)
			p.exec(t, "app", "sh", "-c", "echo live > /srv/data/f1 && rm -f /srv/data/f2")
			before = volumeTree(t, live)
			continue
		}
		t.Logf("%s", r.stderr)
		if r.code != 1 || !strings.Contains(r.stderr, "is not the one restored and verified") || !strings.Contains(r.stderr, "nothing was replaced, every volume holds its previous content") {
			t.Errorf("want exit code 1 saying the staging volume is not the one verified and live is unchanged: %v", r)
		}
		break
	}
	if got := volumeTree(t, live); got != before {
		t.Errorf("the live volume changed:\n%s\nwant:\n%s", got, before)
	}
	if st := p.serviceState(t, "app"); st != "running" {
		t.Errorf("service is %s after the refused swap", st)
	}
	p.checkNothingLeft(t, false)
}

// restoreWithStagingRemoved runs a restore of app, pauses the plugin when its restore
// helper exits, removes that helper and the staging volume, and resumes it. won is false
// when the swap helper existed already (the plugin was paused too late).
func (p *project) restoreWithStagingRemoved(t *testing.T) (result, bool) {
	t.Helper()
	died := helperEvents(t, p, "die", "restore")
	s := p.start(t, nil, pluginBin(), "restore", "app", "--yes")
	helper := awaitMoment(t, s, died, "its restore helper exited")
	s.signal(t, syscall.SIGSTOP)
	swapped := lines(mustDocker(t, "ps", "-aq", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelKind+"=restore-swap"))
	if len(swapped) == 0 {
		runDocker(t, "rm", "-f", helper)
		// The data volume's staging volume; app's other one holds its bind-mounted file.
		staging := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label="+labelProject+"="+p.name, "--filter", "label=io.docker-backup.staging="+p.name+"/app/data"))
		if len(staging) != 1 {
			t.Fatalf("want one staging volume of data, got %q", staging)
		}
		mustDocker(t, "volume", "rm", staging[0])
	}
	s.signal(t, syscall.SIGCONT)
	return s.wait(t, helperWait), len(swapped) == 0
}

// checkNothingLeft fails the test if a helper container, a staging volume or (unless
// rollbacks are expected) a rollback volume of the project is left.
func (p *project) checkNothingLeft(t *testing.T, rollbacks bool) {
	t.Helper()
	if left := mustDocker(t, "ps", "-a", "--filter", "label="+labelProject+"="+p.name, "--format", "{{.Names}}"); strings.TrimSpace(left) != "" {
		t.Errorf("containers of ours left: %s", left)
	}
	// By name: a staging volume the engine re-created has none of our labels.
	for _, v := range lines(mustDocker(t, "volume", "ls", "-q", "--filter", "name="+p.name)) {
		if strings.Contains(v, "-staging-") || strings.Contains(v, "-rollback-") && !rollbacks {
			t.Errorf("volume %s left", v)
		}
	}
}
