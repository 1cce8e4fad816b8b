//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// contentSeed fills a folder with what a copy easily gets wrong: a file a with two more
// names (b beside it, d/c in a subfolder, so the links cross top-level entries), and a
// 100 MiB sparse file holding 8 KiB of data (at the start and in the middle). Both
// folders get the same, so one description serves both.
const contentSeed = `set -e; cd "$1"
printf 'one file, three names\n' > a && ln a b && mkdir d && ln a d/c
printf 'plain\n' > plain.txt
truncate -s 100M sparse
printf 'head' | dd of=sparse conv=notrunc status=none
seq 1 1800 | dd of=sparse bs=4k seek=12800 conv=notrunc status=none`

// contentDamage breaks all of it: a link removed, the file's content changed through its
// other names, the sparse file written over in full (every block allocated), a new file.
const contentDamage = `set -e; cd "$1"
rm b && echo damaged > a
dd if=/dev/zero of=sparse bs=1M count=100 conv=notrunc status=none
echo junk > junk`

// contentScript describes a folder: every path with its type, mode, owner and link
// count, each file's size and SHA-256; after a line "--", each file's inode and path
// (for the groups of names of one file); after another, the sparse file's blocks.
const contentScript = `cd "$1" && find . -printf '%p %y %m %U:%G %n\n' | LC_ALL=C sort &&
find . -type f -printf '%p %s\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort &&
echo -- && find . -type f -printf '%i %p\n' && echo -- && stat -c %b sparse`

// content is what contentScript says of a folder.
type content struct {
	manifest string
	// links are the groups of names of one file, each sorted, one group a line.
	links string
	// blocks are the sparse file's allocated 512-byte blocks.
	blocks int
}

// parseContent reads contentScript's output.
func parseContent(t *testing.T, out string) content {
	t.Helper()
	parts := strings.Split(out, "--\n")
	if len(parts) != 3 {
		t.Fatalf("unexpected description:\n%s", out)
	}
	byInode := map[string][]string{}
	for _, l := range lines(parts[1]) {
		ino, p, _ := strings.Cut(l, " ")
		byInode[ino] = append(byInode[ino], p)
	}
	var groups []string
	for _, names := range byInode {
		if len(names) > 1 {
			slices.Sort(names)
			groups = append(groups, strings.Join(names, " "))
		}
	}
	slices.Sort(groups)
	blocks, err := strconv.Atoi(strings.TrimSpace(parts[2]))
	if err != nil {
		t.Fatalf("reading the sparse file's blocks: %v\n%s", err, out)
	}
	return content{manifest: parts[0], links: strings.Join(groups, "\n"), blocks: blocks}
}

// volumeContent describes a volume, read by a throwaway container that mounts it.
func volumeContent(t *testing.T, volume string) content {
	t.Helper()
	return parseContent(t, mustDocker(t, "run", "--rm", "--network", "none", "--name", runPrefix+"content"+randomHex(3),
		"-v", volume+":/v:ro", "--entrypoint", "sh", env.dbImage, "-c", contentScript, "sh", "/v"))
}

// hostContent describes a folder of this machine.
func hostContent(t *testing.T, dir string) content {
	t.Helper()
	r := cmdSpec{argv: []string{"sh", "-c", contentScript, "sh", dir}}.run()
	if r.code != 0 {
		t.Fatalf("describing %s: %v", dir, r)
	}
	return parseContent(t, r.stdout)
}

// sparseBound is the most blocks a restored copy of the sparse file may take: restic
// writes a chunk's data up to its last byte and leaves only the zeros before as a hole,
// so a chunk (8 MiB at most) that holds data is allocated whole; 100 MiB would be 204800.
const sparseBound = 2 * 8 << 20 / 512

// checkContent compares a restored folder's description with the snapshot's.
func checkContent(t *testing.T, what string, got, want content) {
	t.Helper()
	if got.manifest != want.manifest {
		t.Errorf("%s: content differs:\n%s\nwant:\n%s", what, got.manifest, want.manifest)
	}
	if got.links != "./a ./b ./d/c" || got.links != want.links {
		t.Errorf("%s: names of one file %q, want %q (one file a, b, d/c)", what, got.links, want.links)
	}
	if got.blocks > want.blocks || got.blocks > sparseBound {
		t.Errorf("%s: the sparse file takes %d blocks, plain restic's restore %d: holes were filled", what, got.blocks, want.blocks)
	}
}

// newContentProject brings up the content scenario as newProject does, with the host
// folder of its `o: bind` volume made first and named in the project's .env (compose
// and the plugin both read it), since the local driver binds only a folder that exists.
func newContentProject(t *testing.T) (*project, string) {
	t.Helper()
	bound := t.TempDir()
	// A plain volume's folder is 0755: so is this one, and the two compare alike.
	if err := os.Chmod(bound, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &project{name: runPrefix + randomHex(3), dir: filepath.Join(t.TempDir(), "content")}
	if err := os.CopyFS(p.dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/content"))); err != nil {
		t.Fatalf("copying the content scenario: %v", err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte("CONTENT_BIND_DIR="+bound+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.down(t) })
	if r := p.compose(t, "up", "-d"); r.code != 0 {
		t.Fatalf("bringing up content: %v", r)
	}
	p.waitReady(t)
	return p, bound
}

// TestRestoreContent backs up a plain local volume and an `o: bind` volume that hold
// hard links and a sparse file, damages them, and restores: in place (the plain volume
// swapped by renames, the bound one by copying), with --to, and by verify's drill. Each
// gives back what plain `restic restore --sparse` of the snapshot gives: the same names,
// modes, owners and hashes, the links still one file, the sparse file still sparse. A
// tmpfs volume is refused in place with one line before its service is stopped, and
// restored with --to.
func TestRestoreContent(t *testing.T) {
	t.Parallel()
	p, bound := newContentProject(t)
	for _, dir := range []string{"/srv/plain", "/srv/bound"} {
		p.exec(t, "files", "sh", "-c", contentSeed, "sh", dir)
	}
	p.exec(t, "cache", "sh", "-c", "echo cached > /srv/cache/c")
	plain := p.volume(t, "plain")
	before := volumeContent(t, plain)
	if b := volumeContent(t, p.volume(t, "bound")); b.manifest != before.manifest || b.links != before.links {
		t.Fatalf("the two volumes were seeded differently:\n%s\n%s", b.manifest, before.manifest)
	}
	if before.blocks > 64 {
		t.Fatalf("the seeded sparse file takes %d blocks: the volume's filesystem makes no holes", before.blocks)
	}
	p.mustBackup(t, "up")

	// What plain restic restores from the same snapshot, sparse files as holes.
	repo := filepath.Join(p.dir, "backups")
	snap := p.serviceSnapshots(t, "files")
	if len(snap) != 1 {
		t.Fatalf("want one snapshot of files, got %d", len(snap))
	}
	target := t.TempDir()
	if r := hostRestic(repo, repo+".key", "restore", snap[0].ID, "--target", target, "--sparse", "--verify").run(); r.code != 0 {
		t.Fatalf("plain restic restore: %v", r)
	}
	want := map[string]content{}
	for _, key := range []string{"plain", "bound"} {
		want[key] = hostContent(t, filepath.Join(target, "backup/files", key))
		if want[key].manifest != before.manifest || want[key].links != before.links {
			t.Fatalf("plain restic restored %s differently from what was backed up:\n%s\nwant:\n%s", key, want[key].manifest, before.manifest)
		}
	}
	t.Logf("sparse file: %d blocks seeded, %d restored by plain restic", before.blocks, want["plain"].blocks)

	// In place: both volumes damaged, then restored.
	for _, dir := range []string{"/srv/plain", "/srv/bound"} {
		p.exec(t, "files", "sh", "-c", contentDamage, "sh", dir)
	}
	if got := volumeContent(t, plain); got.blocks < 100<<20/512 || got.links == before.links {
		t.Fatalf("the damage did not take: %d blocks, links %q", got.blocks, got.links)
	}
	r := p.mustBackup(t, "restore", "files", "--yes")
	t.Logf("%s", r.stdout)
	after := volumeContent(t, plain)
	t.Logf("sparse file: %d blocks after the restore in place", after.blocks)
	checkContent(t, "restore of plain", after, want["plain"])
	checkContent(t, "restore of bound", volumeContent(t, p.volume(t, "bound")), want["bound"])
	// The bound volume's folder on this machine is what the service sees.
	checkContent(t, "restore of bound, its host folder", hostContent(t, bound), want["bound"])
	if st := p.serviceState(t, "files"); st != "running" {
		t.Errorf("files is %s after the restore", st)
	}

	// --to: new volumes, the same content.
	to := p.name + "-to"
	t.Cleanup(func() { runDocker(t, "volume", "rm", "-f", to+"_plain", to+"_bound", to+"-cache") })
	p.mustBackup(t, "restore", "files", "--to", to, "--yes")
	for _, key := range []string{"plain", "bound"} {
		checkContent(t, "restore --to of "+key, volumeContent(t, to+"_"+key), want[key])
	}

	// verify's drill restores both services into throwaway volumes.
	if r := p.backup(t, "verify"); r.code != 0 || strings.Count(r.stdout, " ok ") < 2 {
		t.Errorf("want verify to pass for files and cache: %v", r)
	} else {
		t.Logf("%s", r.stdout)
	}

	// The tmpfs volume: refused in place, before its service is stopped.
	cache := p.volume(t, "cache")
	started := mustDocker(t, "inspect", "-f", "{{.State.StartedAt}}", p.container(t, "cache"))
	r = p.backup(t, "restore", "cache", "--yes")
	if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "volume "+cache+" is a tmpfs volume") ||
		!strings.Contains(r.stderr, "restoring cache") || !strings.Contains(r.stderr, "--to") {
		t.Errorf("want exit code 1 and one line saying %s is a tmpfs volume: %v", cache, r)
	} else {
		t.Logf("refused: %s", r.stderr)
	}
	if now := mustDocker(t, "inspect", "-f", "{{.State.StartedAt}}", p.container(t, "cache")); now != started {
		t.Errorf("the refused restore stopped or restarted cache (started %s, now %s)", started, now)
	}
	if got := p.exec(t, "cache", "cat", "/srv/cache/c"); got != "cached\n" {
		t.Errorf("the tmpfs volume holds %q after the refused restore", got)
	}
	p.mustBackup(t, "restore", "cache", "--to", to+"-cache", "--yes")
	if got := mustDocker(t, "run", "--rm", "--network", "none", "-v", to+"-cache:/v:ro", "--entrypoint", "cat", env.dbImage, "/v/c"); got != "cached\n" {
		t.Errorf("restore --to of cache gives %q", got)
	}
	p.checkNothingLeft(t, true)
}
