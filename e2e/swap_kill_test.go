//go:build e2e

package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSwapKilledMidSwap kills the plugin (kill -9) the moment its swap helper starts,
// while the live volume's thousands of entries are being replaced: the live volume must
// be exactly the old tree or exactly the restored one, never a mix, and the next
// restore must finish, leaving the restored tree and the service running.
func TestSwapKilledMidSwap(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	fill := func(prefix string, n int) {
		p.exec(t, "many", "sh", "-c", `cd /srv/many && find . -mindepth 1 -delete && i=0; while [ $i -lt $1 ]; do echo "$0 $i" > "$0$i"; mkdir -p "d$0$((i % 50))"; i=$((i+1)); done`, prefix, strconv.Itoa(n))
	}
	fill("snap", 3000)
	live := p.volume(t, "many")
	restored := volumeTree(t, live)
	p.mustBackup(t, "up", "many")
	fill("live", 2000)
	old := volumeTree(t, live)

	started := helperEvents(t, p, "start", "restore-swap")
	s := p.start(t, nil, pluginBin(), "restore", "many", "--yes")
	killAt(t, s, started, "its swap helper started")
	p.waitSwapHelpersGone(t)
	switch got := volumeTree(t, live); got {
	case old:
		t.Log("killed before the swap replaced anything: the live volume is the old tree")
	case restored:
		t.Log("the swap finished without the plugin: the live volume is the restored tree")
	default:
		t.Fatalf("after kill -9 mid-swap the live volume is neither the old nor the restored tree:\n%s", got)
	}

	p.mustBackup(t, "restore", "many", "--yes")
	if got := volumeTree(t, live); got != restored {
		t.Errorf("after the next restore the live volume is not the snapshot's tree:\n%s", got)
	}
	if st := p.serviceState(t, "many"); st != "running" {
		t.Errorf("service is %s after the next restore", st)
	}
	p.checkNothingLeft(t, true)
}

// killSwapMidway starts a restore of folder, kills the plugin (kill -9) and then its
// swap helper as soon as the swap's journal is in the staging volume (under the engine's
// data root), and reports whether the journal is still there: the swap was cut short.
func (p *project) killSwapMidway(t *testing.T, root string) bool {
	t.Helper()
	s := p.start(t, nil, pluginBin(), "restore", "folder", "--yes")
	var journal string
	eventually(t, helperWait, "the swap's journal in its records volume", func() error {
		if s.exited() {
			t.Fatalf("the restore ended before its swap began: %v", s.res)
		}
		found, _ := filepath.Glob(filepath.Join(root, "volumes", p.name+"_folder_swap-*", "_data", "swap.json"))
		if len(found) == 0 {
			return errors.New("none yet")
		}
		journal = filepath.Join(filepath.Dir(found[0]), "0.json")
		return nil
	})
	s.signal(t, syscall.SIGKILL)
	s.wait(t, helperWait)
	for _, id := range lines(mustDocker(t, "ps", "-q", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelKind+"=restore-swap")) {
		runDocker(t, "kill", id)
	}
	// The mount's own journal ends with phase done once its swap finished.
	data, err := os.ReadFile(journal)
	return err != nil || !strings.Contains(string(data), `"phase": "done"`)
}

// TestSwapHelperKilledMidSwap kills the plugin and then its swap helper while the swap
// copies a bind-mounted host folder (a bind mount cannot be renamed into): the journal
// in the staging volume says how far it got, and the next command finishes the swap
// from it before it starts the service again, so the folder is exactly the restored
// tree, never a mix.
func TestSwapHelperKilledMidSwap(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap")
	p.exec(t, "folder", "sh", "-c", `cd /srv/folder && i=0; while [ $i -lt 1000 ]; do head -c 262144 /dev/urandom > "f$i"; i=$((i+1)); done`)
	folder := filepath.Join(p.dir, "folder")
	restored := volumeTree(t, folder)
	p.mustBackup(t, "up", "folder")
	change := func() string {
		p.exec(t, "folder", "sh", "-c", `cd /srv/folder && rm -f f1* && echo changed > f0 && echo new > g`)
		return volumeTree(t, folder)
	}
	old := change()
	root := strings.TrimSpace(mustDocker(t, "info", "--format", "{{.DockerRootDir}}"))
	for attempt := 1; !p.killSwapMidway(t, root); attempt++ {
		// The copy of 256 MiB takes seconds and the test polls every 250 ms, yet the
		// swap may win: recover (the service is stopped), change the folder, again.
		if attempt == 3 {
			t.Fatalf("the swap finished before its helper could be killed, 3 times")
		}
		t.Logf("attempt %d: the swap finished before its helper was killed; again", attempt)
		p.mustBackup(t, "up", "cached")
		old = change()
	}
	switch volumeTree(t, folder) {
	case old:
		t.Log("killed while the folder was still the old tree (its copy to rollback under way)")
	case restored:
		t.Log("killed once the folder was the restored tree (the journal not yet removed)")
	default:
		t.Log("killed while the folder was neither tree: the journal has to finish it")
	}

	// The next command of the project (here a backup of another service) recovers.
	r := p.backup(t, "up", "cached")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "finished the swap of service folder") {
		t.Fatalf("the next up did not finish the killed swap: %v", r)
	}
	if got := volumeTree(t, folder); got != restored {
		t.Errorf("after the next command the folder is not the restored tree:\n%s", got)
	}
	if st := p.serviceState(t, "folder"); st != "running" {
		t.Errorf("service is %s after recovery", st)
	}
	p.checkNothingLeft(t, true)
}
