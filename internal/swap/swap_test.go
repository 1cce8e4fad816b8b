package swap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const (
	testMarker = ".docker-backup-staged-n1"
	testNonce  = "n1"
)

// oldTree is the live content before a restore.
func oldTree() []node {
	return append(variety(),
		node{path: "backups", kind: 'd', mode: 0o700},
		node{path: "backups/repo", kind: 'f', data: "live repository"},
		node{path: "backups.key", kind: 'f', data: "live key", mode: 0o600},
		node{path: "sub", kind: 'd', mode: 0o755, uid: 7},
		node{path: "sub/keep.txt", kind: 'f', data: "kept, live"},
		node{path: "sub/old.txt", kind: 'f', data: "old"},
		node{path: "only-old", kind: 'd', mode: 0o711},
		node{path: "only-old/deep", kind: 'd'},
		node{path: "only-old/deep/keep.txt", kind: 'f', data: "kept where the new tree has no folder"},
	)
}

// newTree is the staged content: another tree, with staged copies of kept paths.
func newTree() []node {
	return []node{
		{path: testMarker, kind: 'f', data: testNonce},
		{path: "a", kind: 'd', mode: 0o700},
		{path: "a/new.txt", kind: 'f', data: "new", mode: 0o644, xattr: "new"},
		{path: "a/empty", kind: 'd', mode: 0o755},
		{path: "tmp", kind: 'd', mode: 0o1777&0o777 | os.ModeSticky},
		{path: "suid", kind: 'f', data: "new binary", mode: 0o4755&0o777 | os.ModeSetuid},
		{path: "backups", kind: 'd'},
		{path: "backups/repo", kind: 'f', data: "STALE repository from the snapshot"},
		{path: "sub", kind: 'd', mode: 0o750, uid: 8},
		{path: "sub/keep.txt", kind: 'f', data: "STALE staged copy"},
		{path: "sub/new.txt", kind: 'f', data: "new in sub"},
		{path: "link", kind: 'l', data: "../dangling/now"},
		{path: "h1", kind: 'f', data: "linked"},
		{path: "sub/h2", kind: 'h', data: "h1"},
	}
}

var testKeep = []string{"backups", "backups.key", "sub/keep.txt", "only-old/deep/keep.txt", "not/there"}

// fixture is a live, staging and rollback folder with the trees built, and their
// manifests before the swap.
type fixture struct {
	plan     Plan
	old, new map[string]string
}

func newFixture(t *testing.T, old, staged []node, keep []string) *fixture {
	t.Helper()
	dir := t.TempDir()
	p := Plan{
		Live: filepath.Join(dir, "live"), Staging: filepath.Join(dir, "staging"),
		Rollback: filepath.Join(dir, "rollback"), Journal: filepath.Join(dir, "journal.json"),
		Keep: keep, Marker: testMarker, Nonce: testNonce,
	}
	for _, d := range []string{p.Live, p.Staging, p.Rollback} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build(t, p.Live, old)
	build(t, p.Staging, staged)
	f := &fixture{plan: p, old: manifest(t, p.Live)}
	f.new = expectNew(f.old, manifest(t, p.Staging), keep, []string{testMarker})
	return f
}

// live checks that Live is exactly the old or the new tree.
func (f *fixture) live(t *testing.T, wantNew bool) {
	t.Helper()
	want, which := f.old, "old"
	if wantNew {
		want, which = f.new, "new"
	}
	if d := diff(want, manifest(t, f.plan.Live)); d != "" {
		t.Fatalf("live is not the %s tree:\n%s", which, d)
	}
	if ok, _ := lexists(f.plan.Journal); ok {
		t.Fatalf("the journal is left")
	}
}

// rollback checks that Rollback holds the old tree but the kept paths, its root and
// the folders they were in (whose times changed when they moved out).
func (f *fixture) rollback(t *testing.T) {
	t.Helper()
	want := map[string]string{}
	for p, e := range f.old {
		if p != "." && !keptBy(p, f.plan.Keep) && !parentOfKept(p, f.plan.Keep) {
			want[p] = e
		}
	}
	got := manifest(t, f.plan.Rollback)
	delete(got, ".")
	for p := range got {
		if parentOfKept(p, f.plan.Keep) {
			delete(got, p)
		}
	}
	if d := diff(want, got); d != "" {
		t.Fatalf("rollback is not the old tree:\n%s", d)
	}
}

func parentOfKept(p string, keep []string) bool {
	for _, k := range keep {
		if under(p, k) {
			return true
		}
	}
	return false
}

// exdev is a rename that fails as between two filesystems.
func exdev(oldpath, newpath string) error {
	return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EXDEV}
}

func TestSwap(t *testing.T) {
	cases := []struct {
		name   string
		old    []node
		staged []node
		keep   []string
	}{
		{name: "trees", old: oldTree(), staged: newTree()},
		{name: "kept paths", old: oldTree(), staged: newTree(), keep: testKeep},
		{name: "empty live", staged: newTree(), keep: testKeep},
		{name: "empty staging", old: oldTree(), staged: []node{{path: testMarker, kind: 'f', data: testNonce}}, keep: testKeep},
	}
	for _, tc := range cases {
		for _, copying := range []bool{false, true} {
			name := tc.name
			if copying {
				name += " across filesystems"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, tc.old, tc.staged, tc.keep)
				s := newSwapper()
				if copying {
					s.rename = exdev
				}
				if err := s.swap(f.plan); err != nil {
					t.Fatal(err)
				}
				f.live(t, true)
				f.rollback(t)
			})
		}
	}
}

func TestSwapRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(p *Plan)
		is     error
	}{
		{name: "no marker", change: func(p *Plan) { _ = os.Remove(filepath.Join(p.Staging, testMarker)) }, is: ErrNotStaged},
		{name: "other nonce", change: func(p *Plan) { p.Nonce = "n2" }, is: ErrNotStaged},
		{name: "rollback not empty", change: func(p *Plan) { _ = os.WriteFile(filepath.Join(p.Rollback, "x"), nil, 0o644) }},
		{name: "journal left by a swap", change: func(p *Plan) { _ = os.WriteFile(p.Journal, nil, 0o644) }},
		{name: "journal in live", change: func(p *Plan) { p.Journal = filepath.Join(p.Live, "j") }},
		{name: "journal in staging, not skipped", change: func(p *Plan) { p.Journal = filepath.Join(p.Staging, "j") }},
		{name: "overlapping folders", change: func(p *Plan) { p.Rollback = filepath.Join(p.Live, "a") }},
		{name: "kept path outside", change: func(p *Plan) { p.Keep = []string{"../x"} }},
		{name: "kept path under a staged file", change: func(p *Plan) {
			p.Keep = []string{"suid-dir/f"}
			_ = os.Mkdir(filepath.Join(p.Live, "suid-dir"), 0o755)
			_ = os.WriteFile(filepath.Join(p.Live, "suid-dir", "f"), nil, 0o644)
			_ = os.WriteFile(filepath.Join(p.Staging, "suid-dir"), nil, 0o644)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, oldTree(), newTree(), testKeep)
			p := f.plan
			tc.change(&p)
			f.old = manifest(t, p.Live)
			err := Swap(p)
			if !errors.Is(err, ErrUnchanged) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("got %v, want ErrUnchanged %v", err, tc.is)
			}
			if d := diff(f.old, manifest(t, p.Live)); d != "" {
				t.Fatalf("live changed:\n%s", d)
			}
		})
	}
}

func TestSwapJournalInStaging(t *testing.T) {
	f := newFixture(t, oldTree(), newTree(), testKeep)
	f.plan.Journal = filepath.Join(f.plan.Staging, ".journal")
	f.plan.Skip = []string{".journal"}
	if err := Swap(f.plan); err != nil {
		t.Fatal(err)
	}
	f.live(t, true)
}

func TestSwapManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 20,000 files")
	}
	const n = 20_000 // e2e TestSwapManyEntries swaps 120,000 through the agent
	staged := []node{{path: testMarker, kind: 'f', data: testNonce}}
	for i := range n {
		staged = append(staged, node{path: fmt.Sprintf("new%06d", i), kind: 'f'})
	}
	f := newFixture(t, oldTree(), staged, testKeep)
	start := time.Now()
	if err := Swap(f.plan); err != nil {
		t.Fatal(err)
	}
	t.Logf("swapped in %d entries in %v", n, time.Since(start))
	f.live(t, true)
	// And back: Live's 100,000 entries are now the old content.
	p := f.plan
	p.Staging, p.Rollback = f.plan.Rollback, f.plan.Staging
	p.Marker = ""
	if err := os.Remove(filepath.Join(p.Rollback, testMarker)); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := Swap(p); err != nil {
		t.Fatal(err)
	}
	t.Logf("swapped out %d entries in %v", n, time.Since(start))
}

func TestResumeWithoutJournal(t *testing.T) {
	err := Resume(Plan{Journal: filepath.Join(t.TempDir(), "journal.json")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want os.ErrNotExist", err)
	}
}
