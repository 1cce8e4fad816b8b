//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpFiles is how many files of 256 KiB the bound volume cp holds: enough that copying
// it in or out takes a while the test can see.
const cpFiles = 300

// TestRestoreTwoVolumesWhole restores a service with two volumes, one swapped by rename
// (big, a plain local volume with thousands of entries) and one by copy (cp, a local
// volume bound to a host folder), and kills the swap helper (docker kill), or the plugin
// (kill -9) together with it, at several moments of the swap. After the restore ends
// and again after the project's next command, each volume is wholly the tree before
// the restore or wholly the snapshot's, both the same, the service runs, the restore
// exited 0 only if both are the snapshot's, and a failed one names both volumes.
func TestRestoreTwoVolumesWhole(t *testing.T) {
	t.Parallel()
	var device string
	p := newPreparedProject(t, "swap-whole", func(p *project) {
		device = filepath.Join(p.dir, "cp-device")
		if err := os.Mkdir(device, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte("CP_DEVICE="+device+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	w := &wholePair{p: p, root: strings.TrimSpace(mustDocker(t, "info", "--format", "{{.DockerRootDir}}")),
		big: p.volume(t, "big"), cp: p.volume(t, "cp"), device: device}
	p.exec(t, "pair", "sh", "-c", `set -e; cd /srv/big
seq 1 4000 | sed 's/^/f/' | xargs touch
for i in 1 2 3; do echo "content $i" > f$i; done
mkdir -p d/e && echo deep > d/e/x
cd /srv/cp && i=0; while [ $i -lt `+strconv.Itoa(cpFiles)+` ]; do head -c 262144 /dev/urandom > "f$i"; i=$((i+1)); done`)
	p.exec(t, "other", "sh", "-c", "echo small > /srv/small/a")
	w.newBig, w.newCP = hostTree(t, w.bigData()), hostTree(t, w.device)
	p.mustBackup(t, "up", "pair")
	w.snap = p.serviceSnapshots(t, "pair")[0].ID
	w.change(t)
	w.oldBig, w.oldCP = hostTree(t, w.bigData()), hostTree(t, w.device)
	if w.oldBig == w.newBig || w.oldCP == w.newCP {
		t.Fatal("the change changed nothing")
	}
	w.lastBig, w.lastCP = "old", "old"

	for _, pluginToo := range []bool{false, true} {
		for _, m := range wholeMoments {
			name := "helper-killed/" + m.name
			if pluginToo {
				name = "plugin-and-helper-killed/" + m.name
			}
			t.Run(name, func(t *testing.T) {
				for attempt := 1; !w.round(t, m, pluginToo); attempt++ {
					if attempt == 3 {
						t.Fatalf("the swap helper ended before %s, 3 times", m.name)
					}
					t.Logf("attempt %d: the swap helper ended before %s; again", attempt, m.name)
				}
			})
		}
	}

	w.ensureOld(t)
	r := p.mustBackup(t, "restore", "pair@"+w.snap, "--yes")
	if got := w.whole(t, "after a restore that ran through"); got != "new" {
		t.Errorf("after a restore that ran through the volumes are %s, not the snapshot's:\n%s%s", got, r.stdout, r.stderr)
	}
	if st := p.serviceState(t, "pair"); st != "running" {
		t.Errorf("pair is %s after a restore that ran through", st)
	}
	p.checkNothingLeft(t, true)
}

// wholePair is the pair service of swap-whole: its volumes, cp's host folder, the
// snapshot restored, the manifests of both trees of each volume, before the restore
// (old) and the snapshot's (new), and what the volumes were when last read.
type wholePair struct {
	p                            *project
	root                         string
	big, cp, device              string
	snap                         string
	oldBig, oldCP, newBig, newCP string
	lastBig, lastCP              string
}

// bigData is where the host sees big's content.
func (w *wholePair) bigData() string { return filepath.Join(w.root, "volumes", w.big, "_data") }

// wholeMoment is a moment of the swap at which the test kills: reached tells, from the
// host's view of the volumes, whether the swap got there (rollback holds the rollback
// folders of this restore's volumes, by live volume).
type wholeMoment struct {
	name    string
	reached func(w *wholePair, rollback map[string][]string) bool
}

// wholeMoments: as soon as the swap helper starts; once big's previous content begins
// to move into its rollback volume; while cp's previous content is copied into its
// rollback volume; while the snapshot's content is copied into cp.
var wholeMoments = []wholeMoment{
	{"start", func(*wholePair, map[string][]string) bool { return true }},
	{"big-rollback-filling", func(w *wholePair, rb map[string][]string) bool { return anyEntries(rb[w.big]) }},
	{"cp-copied-out", func(w *wholePair, rb map[string][]string) bool {
		return anyEntries(rb[w.cp]) && exists(filepath.Join(w.device, "g"))
	}},
	{"cp-copied-in", func(w *wholePair, rb map[string][]string) bool {
		n, err := os.ReadDir(w.device)
		return anyEntries(rb[w.cp]) && err == nil && !exists(filepath.Join(w.device, "g")) && len(n) < cpFiles
	}},
}

// round ensures both volumes hold the old tree, restores the snapshot, and kills the
// swap helper (and with pluginToo the plugin first, kill -9) at moment m; then checks
// the volumes after the restore ended and after the project's next command. It returns
// false when the swap ended before the moment came (the restore ran through).
func (w *wholePair) round(t *testing.T, m wholeMoment, pluginToo bool) bool {
	p := w.p
	w.ensureOld(t)
	before := w.rollbackFolders()
	starts := helperEvents(t, p, "start", "restore-swap")
	died := helperEvents(t, p, "die", "restore-swap")
	s := p.start(t, nil, pluginBin(), "restore", "pair@"+w.snap, "--yes")
	helper := awaitMoment(t, s, starts, "its swap helper started")
	caught, pluginKilled := w.waitMoment(t, m, before, died, s), false
	if caught {
		if pluginToo {
			s.signal(t, syscall.SIGKILL)
			pluginKilled = true
		}
		if r := runDocker(t, "kill", helper); r.code != 0 {
			t.Logf("the swap helper was no longer running: %v", r)
			caught = false
		}
	}
	r := s.wait(t, helperWait)
	if pluginKilled {
		t.Logf("killed the plugin (kill -9) and then its swap helper at %s", m.name)
	} else {
		t.Logf("the restore ended: %v", r)
		state := w.whole(t, "after the restore")
		if st := p.serviceState(t, "pair"); st != "running" {
			t.Errorf("pair is %s after the restore ended", st)
		}
		if r.code == 0 && state != "new" {
			t.Errorf("the restore exited 0 but the volumes are %s, not the snapshot's", state)
		}
		if out := r.stdout + r.stderr; r.code != 0 && (!strings.Contains(out, w.big) || !strings.Contains(out, w.cp)) {
			t.Errorf("the failed restore does not name both live volumes %s and %s", w.big, w.cp)
		}
	}

	// The project's next command recovers whatever the killed run left.
	next := p.backup(t, "up", "other")
	if next.code != 0 {
		t.Errorf("the next command failed: %v", next)
	} else {
		t.Logf("the next command:\n%s%s", next.stdout, next.stderr)
	}
	w.whole(t, "after the next command")
	if st := p.serviceState(t, "pair"); st != "running" {
		t.Errorf("pair is %s after the next command", st)
	}
	return caught
}

// waitMoment polls the host's view of the volumes until the swap reaches m, and
// reports false if the swap helper ends (or the restore) first.
func (w *wholePair) waitMoment(t *testing.T, m wholeMoment, before map[string]bool, died <-chan string, s *started) bool {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(helperWait)
	for {
		rollback := map[string][]string{}
		for f := range w.rollbackFolders() {
			if before[f] {
				continue
			}
			for _, live := range []string{w.big, w.cp} {
				if strings.HasPrefix(filepath.Base(filepath.Dir(f)), live+"-rollback-") {
					rollback[live] = append(rollback[live], f)
				}
			}
		}
		if m.reached(w, rollback) {
			t.Logf("the swap reached %s: %s", m.name, w.progress(rollback))
			return true
		}
		select {
		case <-died:
			return false
		case <-s.done:
			return false
		case <-deadline:
			t.Fatalf("the swap did not reach %s within %s", m.name, helperWait)
		case <-tick.C:
		}
	}
}

// progress says how many entries big's and cp's live and rollback folders hold.
func (w *wholePair) progress(rollback map[string][]string) string {
	count := func(dirs ...string) int {
		n := 0
		for _, d := range dirs {
			es, _ := os.ReadDir(d)
			n += len(es)
		}
		return n
	}
	return fmt.Sprintf("big %d entries, its rollback %d; cp %d, its rollback %d",
		count(w.bigData()), count(rollback[w.big]...), count(w.device), count(rollback[w.cp]...))
}

// rollbackFolders are the data folders of big's and cp's rollback volumes, as the host
// sees them under the engine's data root.
func (w *wholePair) rollbackFolders() map[string]bool {
	out := map[string]bool{}
	for _, live := range []string{w.big, w.cp} {
		found, _ := filepath.Glob(filepath.Join(w.root, "volumes", live+"-rollback-*", "_data"))
		for _, f := range found {
			out[f] = true
		}
	}
	return out
}

// change turns both volumes from the snapshot's tree into the old one.
func (w *wholePair) change(t *testing.T) {
	t.Helper()
	w.p.exec(t, "pair", "sh", "-c", `set -e; for d in /srv/big /srv/cp; do cd $d && rm -f f1? && echo changed > f2 && echo new > g; done`)
}

// ensureOld makes both volumes the old tree again: after a restore that went through,
// and after a failure left them mixed (a restore that runs through first), so that one
// failure does not hide the next.
func (w *wholePair) ensureOld(t *testing.T) {
	t.Helper()
	big, cp := w.lastBig, w.lastCP
	if big != cp || big == "neither" {
		w.p.mustBackup(t, "restore", "pair@"+w.snap, "--yes")
		big, cp = w.state(t)
	}
	if big == "new" && cp == "new" {
		w.change(t)
	}
	w.lastBig, w.lastCP = "old", "old"
}

// state classifies each volume's tree: old, new or neither (read on the host, which is
// quicker than a container that mounts the volume).
func (w *wholePair) state(t *testing.T) (big, cp string) {
	t.Helper()
	w.lastBig = classify(hostTree(t, w.bigData()), w.oldBig, w.newBig)
	w.lastCP = classify(hostTree(t, w.device), w.oldCP, w.newCP)
	return w.lastBig, w.lastCP
}

// whole reads both volumes and returns "old" or "new" when both are wholly that tree;
// otherwise it fails the test and returns what it found.
func (w *wholePair) whole(t *testing.T, when string) string {
	t.Helper()
	big, cp := w.state(t)
	switch {
	case big == "neither" || cp == "neither":
		t.Errorf("%s: %s is the %s tree, %s the %s tree (neither: part old, part new)", when, w.big, big, w.cp, cp)
		return "mixed"
	case big != cp:
		t.Errorf("%s: %s is the %s tree but %s the %s one: a restore replaces a service's volumes all or none", when, w.big, big, w.cp, cp)
		return "mixed"
	}
	t.Logf("%s: both volumes are the %s tree", when, big)
	return big
}

// classify says which of two manifests got is.
func classify(got, older, newer string) string {
	switch got {
	case older:
		return "old"
	case newer:
		return "new"
	}
	return "neither"
}

// anyEntries tells whether one of the folders holds an entry.
func anyEntries(folders []string) bool {
	for _, f := range folders {
		d, err := os.Open(f)
		if err != nil {
			continue
		}
		names, _ := d.Readdirnames(1)
		d.Close()
		if len(names) > 0 {
			return true
		}
	}
	return false
}

// exists tells whether path exists (lstat).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
