//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestoreForgedSwapFiles: a service writes into its own volume what a killed swap
// leaves in a staging folder (a spec whose helper mounts the host's / or the engine's
// folder of volumes, a journal in phase "out" whose plan's live folder is a host folder
// or another volume, a staging marker), for several nonces, so that its snapshot carries
// them into restore's staging volumes and verify's throwaway volumes. A restore killed
// (kill -9) after "verified", and a verify killed while its drill's check runs, leave
// those volumes to the next command's recovery, which must not take the forged files
// for a swap of its own: the host folder (owner, mode, files, content), the other
// volume and the service's own volume are unchanged after each, no helper mounts /, and
// a completed restore puts the forged files into the live volume as plain data.
func TestRestoreForgedSwapFiles(t *testing.T) {
	t.Parallel()
	p := newProject(t, "swap-forged")
	root := strings.TrimSpace(mustDocker(t, "info", "--format", "{{.DockerRootDir}}"))
	live := p.volume(t, "data")
	victim := newVictimVolume(t)
	canary := newCanary(t)
	wantCanary, wantVictim := hostTree(t, canary), volumeTree(t, victim)
	forged := forgeSwaps(root, live, victim, canary)

	p.exec(t, "evil", "sh", "-c", `set -e; mkdir -p /srv/evil/notes; echo one > /srv/evil/notes/a; echo two > /srv/evil/b`)
	p.execInput(t, "evil", forged.script(), "sh")
	written := volumeTree(t, live)
	rootMounts := watchRootMounts(t, p, canary)
	p.mustBackup(t, "up")
	snaps := p.serviceSnapshots(t, "evil")
	if len(snaps) != 1 {
		t.Fatalf("want one snapshot of evil, got %d", len(snaps))
	}
	snap := snaps[0].ID

	// check compares what the forged files point at with what it was, and puts back
	// what changed (so that one failure does not hide the next).
	check := func(when string) {
		t.Helper()
		if got := hostTree(t, canary); got != wantCanary {
			t.Errorf("%s: the host folder %s changed:\n%s\nwant:\n%s", when, canary, got, wantCanary)
			resetCanary(t, canary)
		}
		if got := volumeTree(t, victim); got != wantVictim {
			t.Errorf("%s: volume %s, which evil does not mount, changed:\n%s\nwant:\n%s", when, victim, got, wantVictim)
		}
		if st := p.serviceState(t, "evil"); st != "running" {
			t.Errorf("%s: evil is %s", when, st)
			p.compose(t, "start", "evil")
		}
		if got := volumeTree(t, live); got != written {
			t.Errorf("%s: evil's volume is not what evil wrote:\n%s\nwant:\n%s", when, got, written)
			p.execInput(t, "evil", forged.script(), "sh")
		}
	}

	// A restore killed after its staging volume was verified, before its swap.
	p.restoreKilledAfterVerified(t, snap, root, len(forged.nonces))
	if r := p.backup(t, "up"); r.code != 0 {
		t.Errorf("the up after the killed restore: %v", r)
	} else {
		t.Logf("the up after the killed restore:\n%s%s", r.stdout, r.stderr)
	}
	check("after the up that followed a restore killed after verified")

	// A drill killed while its check runs, its throwaway volumes restored and verified.
	p.verifyKilledMidDrill(t, snap, root, len(forged.nonces))
	if r := p.backup(t, "up"); r.code != 0 {
		t.Errorf("the up after the killed verify: %v", r)
	} else {
		t.Logf("the up after the killed verify:\n%s%s", r.stdout, r.stderr)
	}
	check("after the up that followed a verify killed mid-drill")

	// A completed restore: the forged files are data like any other.
	r := p.mustBackup(t, "restore", "evil@"+snap, "--yes")
	t.Logf("the completed restore:\n%s%s", r.stdout, r.stderr)
	check("after a completed restore")

	for _, m := range rootMounts() {
		t.Errorf("a container of the project mounted the host: %s", m)
	}
	p.checkNothingLeft(t, true)
}

// restoreKilledAfterVerified runs a restore of evil and kills it (kill -9) the moment
// it prints "verified": its staging volume, restored and verified, holds the forged
// files, and no swap began. If the swap helper was already created, the race is lost:
// the next up recovers and it tries again, 3 times at most.
func (p *project) restoreKilledAfterVerified(t *testing.T, snap, root string, nonces int) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		w := p.startWatched(t, "verified", pluginBin(), "restore", "evil@"+snap, "--yes")
		w.killAtHit(t)
		swaps := lines(mustDocker(t, "ps", "-aq", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelKind+"=restore-swap"))
		if len(swaps) == 0 {
			break
		}
		if attempt == 3 {
			t.Fatalf("the swap helper was created before the restore could be killed, 3 times")
		}
		t.Logf("attempt %d: the swap helper was created before the kill; again", attempt)
		p.mustBackup(t, "up")
	}
	staging := lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label="+labelProject+"="+p.name, "--filter", "label=io.docker-backup.staging"))
	p.mustHoldForgeries(t, root, staging, nonces, "the killed restore's staging volume")
}

// verifyKilledMidDrill runs a drill of evil and kills it (kill -9) once its check runs:
// the throwaway volumes are restored and verified, and hold the forged files.
func (p *project) verifyKilledMidDrill(t *testing.T, snap, root string, nonces int) {
	t.Helper()
	w := p.startWatched(t, "running x-backup.verify", pluginBin(), "verify", "evil", "--snapshot", snap)
	w.awaitHit(t)
	var throwaways []string
	for _, v := range lines(mustDocker(t, "volume", "ls", "-q", "--filter", "label="+labelProject+"="+p.name)) {
		if strings.Contains(v, "-backup-verify-") {
			throwaways = append(throwaways, v)
		}
	}
	p.mustHoldForgeries(t, root, throwaways, nonces, "the drill's throwaway volume")
	w.kill(t)
}

// mustHoldForgeries fails the test unless one of volumes holds every forged spec and
// journal: else the kill did not leave what the test is about.
func (p *project) mustHoldForgeries(t *testing.T, root string, volumes []string, nonces int, what string) {
	t.Helper()
	for _, v := range volumes {
		specs, _ := filepath.Glob(filepath.Join(root, "volumes", v, "_data", ".docker-backup-swap-*.spec"))
		journals, _ := filepath.Glob(filepath.Join(root, "volumes", v, "_data", ".docker-backup-swap-*.json"))
		if len(specs) == nonces && len(journals) == nonces {
			t.Logf("%s %s holds the %d forged specs and journals", what, v, nonces)
			return
		}
	}
	t.Fatalf("no %s holds the forged files (volumes %q)", what, volumes)
}

// forgery is what evil writes into its volume: per nonce a spec, a journal, a staging
// marker, a payload folder with a file and an empty folder for the "rollback".
type forgery struct {
	nonces []string
	files  map[string][]byte // relative to the volume's root
	dirs   []string
}

// swapHelperMount, swapMount, swapSpec, swapPlan, swapAttrs and swapJournal are
// agent.SwapSpec and swap's journal as they are written to disk (agent/swap.go,
// swap/journal.go), copied rather than imported: the forgery is the service's, written
// to the format of the version it attacks.
type swapHelperMount struct {
	Type   string `json:"type"`
	Source string `json:"source"`
	Target string `json:"target"`
}

type swapMount struct {
	Live     string `json:"live"`
	Staging  string `json:"staging"`
	Rollback string `json:"rollback"`
}

type swapSpec struct {
	Nonce  string            `json:"nonce"`
	Mounts []swapMount       `json:"mounts"`
	Helper []swapHelperMount `json:"helper,omitempty"`
}

type swapPlan struct {
	Live     string   `json:"live"`
	Staging  string   `json:"staging"`
	Rollback string   `json:"rollback"`
	Journal  string   `json:"journal"`
	Skip     []string `json:"skip,omitempty"`
	Marker   string   `json:"marker,omitempty"`
	Nonce    string   `json:"nonce,omitempty"`
}

type swapAttrs struct {
	Mode  uint32 `json:"mode"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Atime int64  `json:"atime_ns"`
	Mtime int64  `json:"mtime_ns"`
}

type swapJournal struct {
	Version    int       `json:"version"`
	Plan       swapPlan  `json:"plan"`
	Phase      string    `json:"phase"`
	LiveRoot   swapAttrs `json:"live_root"`
	StagedRoot swapAttrs `json:"staged_root"`
}

// forgeSwaps makes the forgery. Each nonce tries another way in (the nonces' first
// digits keep them in this order):
//   - 0: the helper mounts the host's / at /h; the journal is found in evil's live
//     volume through it, and its plan swaps a payload into the host folder canary;
//   - 1: the same, with evil's live volume mounted at /s besides;
//   - 2: the helper mounts the engine's folder of volumes at /volumes, as a renaming
//     swap does, and the plan's live folder is another volume (victim);
//   - 3: no helper mounts at all (as if they came from our labels), the journal at a
//     copying swap's staging mount /staging/0, the plan's live folder victim again.
//
// The journal's staged root is owned by 4242:4242, mode 0777: what the swap's last phase
// gives the live folder's root.
func forgeSwaps(root, live, victim, canary string) *forgery {
	f := &forgery{files: map[string][]byte{}}
	volumes := filepath.Join(root, "volumes")
	liveData := filepath.Join(volumes, live, "_data")
	now := time.Now().UnixNano()
	for i := 0; i < 4; i++ {
		nonce := fmt.Sprintf("%x%s", i, randomHex(8)[1:])
		f.nonces = append(f.nonces, nonce)
		journalName, specName := ".docker-backup-swap-"+nonce+".json", ".docker-backup-swap-"+nonce+".spec"
		payload, loot := ".payload-"+nonce, ".loot-"+nonce
		var spec swapSpec
		var plan swapPlan
		switch i {
		case 0:
			in := "/h" + liveData
			spec = swapSpec{Mounts: []swapMount{{Live: "/h" + canary, Staging: in, Rollback: in + "/" + loot}},
				Helper: []swapHelperMount{{Type: "bind", Source: "/", Target: "/h"}}}
			plan = swapPlan{Live: "/h" + canary, Staging: in + "/" + payload, Rollback: in + "/" + loot, Journal: in + "/" + journalName}
		case 1:
			spec = swapSpec{Mounts: []swapMount{{Live: "/h" + canary, Staging: "/s", Rollback: "/s/" + loot}},
				Helper: []swapHelperMount{{Type: "volume", Source: live, Target: "/s"}, {Type: "bind", Source: "/", Target: "/h"}}}
			plan = swapPlan{Live: "/h" + canary, Staging: "/s/" + payload, Rollback: "/s/" + loot, Journal: "/s/" + journalName}
		case 2:
			in := "/volumes/" + live + "/_data"
			spec = swapSpec{Mounts: []swapMount{{Live: "/volumes/" + victim + "/_data", Staging: in, Rollback: in + "/" + loot}},
				Helper: []swapHelperMount{{Type: "bind", Source: volumes, Target: "/volumes"}}}
			plan = swapPlan{Live: "/volumes/" + victim + "/_data", Staging: in + "/" + payload, Rollback: in + "/" + loot, Journal: in + "/" + journalName}
		case 3:
			spec = swapSpec{Mounts: []swapMount{{Live: "/volumes/" + victim + "/_data", Staging: "/staging/0", Rollback: "/staging/0/" + loot}}}
			plan = swapPlan{Live: "/volumes/" + victim + "/_data", Staging: "/staging/0/" + payload, Rollback: "/staging/0/" + loot, Journal: "/staging/0/" + journalName}
		}
		spec.Nonce = nonce
		plan.Skip, plan.Marker, plan.Nonce = []string{journalName, specName}, ".docker-backup-staged-"+nonce, nonce
		j := swapJournal{Version: 1, Plan: plan, Phase: "out",
			LiveRoot:   swapAttrs{Mode: 0o755, Atime: now, Mtime: now},
			StagedRoot: swapAttrs{Mode: 0o777, UID: 4242, GID: 4242, Atime: now, Mtime: now}}
		specJSON, _ := json.Marshal(spec)
		journalJSON, _ := json.MarshalIndent(j, "", "  ")
		f.files[specName] = specJSON
		f.files[journalName] = journalJSON
		f.files[".docker-backup-staged-"+nonce] = []byte(nonce)
		f.files[payload+"/from-evil"] = []byte("written by the service evil\n")
		f.dirs = append(f.dirs, payload, loot)
	}
	return f
}

// script is the shell script that writes the forgery into /srv/evil, replacing an
// earlier one.
func (f *forgery) script() string {
	var b strings.Builder
	b.WriteString("set -e; cd /srv/evil; rm -rf .docker-backup-* .payload-* .loot-*\n")
	for _, d := range f.dirs {
		fmt.Fprintf(&b, "mkdir -m 755 %s\n", d)
	}
	names := make([]string, 0, len(f.files))
	for n := range f.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "echo %s | base64 -d > %s && chmod 644 %s\n", base64.StdEncoding.EncodeToString(f.files[n]), n, n)
	}
	return b.String()
}

// newCanary makes the host folder the forgery aims at, outside the engine's data root:
// owned by root, mode 0755, a file and a folder with a file.
func newCanary(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "canary")
	resetCanary(t, dir)
	return dir
}

// resetCanary (re)makes the canary folder as newCanary first made it.
func resetCanary(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"host-file": "the host's own file\n", "sub/inner": "inner\n"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{dir, filepath.Join(dir, "sub"), filepath.Join(dir, "host-file"), filepath.Join(dir, "sub/inner")} {
		if err := os.Lchown(path, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// hostTree is the manifest of a host folder, read on the host (the tests run as root):
// every path with its type, permission bits, owner, link target and a file's SHA-256,
// sorted, like volumeTree's but without a container to start.
func hostTree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		st := fi.Sys().(*syscall.Stat_t)
		kind := "f"
		switch {
		case fi.IsDir():
			kind = "d"
		case fi.Mode()&os.ModeSymlink != 0:
			kind = "l"
		case !fi.Mode().IsRegular():
			kind = "?"
		}
		line := fmt.Sprintf("%s %s %o %d:%d", rel, kind, st.Mode&0o7777, st.Uid, st.Gid)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			line += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// newVictimVolume creates a volume of no project, with a file, that the forgery aims at.
func newVictimVolume(t *testing.T) string {
	t.Helper()
	name := runPrefix + "-victim-" + randomHex(3)
	mustDocker(t, "volume", "create", name)
	t.Cleanup(func() { runDocker(t, "volume", "rm", "-f", name) })
	mustDocker(t, "run", "--rm", "--network", "none", "--name", runPrefix+"victim"+randomHex(3), "-v", name+":/v",
		"--entrypoint", "sh", env.dbImage, "-c", "echo victim > /v/file && chmod 750 /v")
	return name
}
