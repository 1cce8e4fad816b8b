package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return strings.Join(out, " ")
}

// swapDirs makes n mounts' live, staging and rollback folders and a records folder.
func swapDirs(t *testing.T, nonce string, n int) SwapSpec {
	t.Helper()
	root := t.TempDir()
	spec := SwapSpec{Nonce: nonce, Records: filepath.Join(root, "records")}
	if err := os.Mkdir(spec.Records, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var m SwapMount
		for _, d := range []*string{&m.Live, &m.Staging, &m.Rollback} {
			dir, err := os.MkdirTemp(root, "m")
			if err != nil {
				t.Fatal(err)
			}
			*d = dir
		}
		writeFiles(t, m.Live, map[string]string{"old" + strconv.Itoa(i): "1"})
		writeFiles(t, m.Staging, map[string]string{"new" + strconv.Itoa(i): "2", "sub/x": "3", StagedMarker(nonce): nonce})
		spec.Mounts = append(spec.Mounts, m)
	}
	return spec
}

func report(t *testing.T, out *bytes.Buffer) string {
	t.Helper()
	var r SwapReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return strings.Join(r.Mounts, " ")
}

func codeOf(err error) int {
	var coded *exitError
	if errors.As(err, &coded) {
		return coded.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// Every mount is swapped; the journals are in the records folder only, never in a
// folder that holds or will hold service data.
func TestSwapAllReplacesEveryMount(t *testing.T) {
	spec := swapDirs(t, "n1", 2)
	spec.Mounts[0].Keep = []string{"keep.txt"}
	writeFiles(t, spec.Mounts[0].Live, map[string]string{"keep.txt": "k"})
	var out bytes.Buffer
	if err := swapAll(spec, true, Streams{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if got := report(t, &out); got != "new new" {
		t.Errorf("states %q", got)
	}
	if got := names(t, spec.Mounts[0].Live); got != "keep.txt new0 sub" {
		t.Errorf("live 0 holds %q", got)
	}
	if got := names(t, spec.Mounts[1].Rollback); got != "old1" {
		t.Errorf("rollback 1 holds %q", got)
	}
	for _, m := range spec.Mounts {
		if got := names(t, m.Staging); got != StagedMarker("n1") {
			t.Errorf("staging holds %q: only the marker may stay", got)
		}
	}
	if got := names(t, spec.Records); got != "0.json 1.json swap.json" {
		t.Errorf("records hold %q", got)
	}
}

// A mount that cannot be swapped puts back the mounts swapped before it: all old.
func TestSwapAllPutsEveryMountBack(t *testing.T) {
	spec := swapDirs(t, "n1", 2)
	writeFiles(t, spec.Mounts[1].Rollback, map[string]string{"in-the-way": "x"}) // not empty: refused
	var out bytes.Buffer
	err := swapAll(spec, true, Streams{Out: &out})
	if codeOf(err) != SwapPutBack {
		t.Fatalf("err %v (code %d), want SwapPutBack", err, codeOf(err))
	}
	if got := report(t, &out); got != "old old" {
		t.Errorf("states %q", got)
	}
	for i, m := range spec.Mounts {
		if got := names(t, m.Live); got != "old"+strconv.Itoa(i) {
			t.Errorf("live %d holds %q", i, got)
		}
	}
}

// A swap whose helper died after the first mount: the second mount, never begun, is
// not taken for done; resuming swaps it, and the service's mounts all end new.
func TestSwapAllResumesMountsNeverBegun(t *testing.T) {
	spec := swapDirs(t, "n1", 2)
	d := &driver{spec: spec, states: make([]string, 2)}
	if err := d.write(&serviceJournal{Version: 1, Nonce: "n1", Direction: forward}); err != nil {
		t.Fatal(err)
	}
	if err := d.forward(0); err != nil { // then the helper "dies"
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := swapAll(spec, false, Streams{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if got := report(t, &out); got != "new new" {
		t.Errorf("states %q", got)
	}
	if got := names(t, spec.Mounts[1].Live); got != "new1 sub" {
		t.Errorf("live 1 holds %q", got)
	}
}

// --resume never begins a swap: without its journal nothing changes.
func TestSwapResumeNeverBegins(t *testing.T) {
	spec := swapDirs(t, "n1", 1)
	var out bytes.Buffer
	if err := swapAll(spec, false, Streams{Out: &out}); codeOf(err) != SwapNotBegun {
		t.Fatalf("err %v", err)
	}
	if got := names(t, spec.Mounts[0].Live); got != "old0" {
		t.Errorf("live holds %q", got)
	}
}

func TestSwapAllRefusesAStagingWithoutMarker(t *testing.T) {
	spec := swapDirs(t, "n1", 2)
	if err := os.Remove(filepath.Join(spec.Mounts[1].Staging, StagedMarker("n1"))); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := swapAll(spec, true, Streams{Out: &out}); codeOf(err) != SwapNotStaged {
		t.Fatalf("err %v", err)
	}
	if got := report(t, &out); got != "old old" {
		t.Errorf("states %q", got)
	}
	if got := names(t, spec.Records); got != "" {
		t.Errorf("records hold %q after a refused swap", got)
	}
}

// A journal in the records folder that is not this swap's is refused, whatever it says.
func TestSwapAllRefusesAnotherSwapsJournal(t *testing.T) {
	spec := swapDirs(t, "n1", 1)
	other := swapDirs(t, "n1", 1)
	forged := other.Mounts[0]
	d := &driver{spec: spec}
	if err := d.write(&serviceJournal{Version: 1, Nonce: "n1", Direction: forward}); err != nil {
		t.Fatal(err)
	}
	j := fmt.Sprintf(`{"version":1,"phase":"out","plan":{"live":%q,"staging":%q,"rollback":%q,"journal":%q}}`,
		forged.Live, forged.Staging, forged.Rollback, filepath.Join(spec.Records, "0.json"))
	writeFiles(t, spec.Records, map[string]string{"0.json": j})
	var out bytes.Buffer
	if err := swapAll(spec, false, Streams{Out: &out}); err == nil {
		t.Fatal("a foreign journal was resumed")
	}
	if got := names(t, forged.Live); got != "old0" {
		t.Errorf("the forged journal's live folder holds %q", got)
	}
}

func TestConfineSpec(t *testing.T) {
	ok := SwapSpec{Records: RecordsDir, Mounts: []SwapMount{{Live: "/live/0", Staging: "/volumes/p_v-staging-1/_data", Rollback: "/rollback/0"}}}
	if err := confineSpec(ok); err == nil || !strings.Contains(err.Error(), "without following links") {
		// The paths do not exist here: the shape is accepted, the open fails.
		t.Errorf("a well-formed spec: %v", err)
	}
	for _, bad := range []SwapSpec{
		{Records: "/h/records"},
		{Records: RecordsDir, Mounts: []SwapMount{{Live: "/h/etc", Staging: "/staging/0", Rollback: "/rollback/0"}}},
		{Records: RecordsDir, Mounts: []SwapMount{{Live: "/volumes/../h/_data", Staging: "/staging/0", Rollback: "/rollback/0"}}},
		{Records: RecordsDir, Mounts: []SwapMount{{Live: "/live/0", Staging: "/staging/0/..", Rollback: "/rollback/0"}}},
		{Records: RecordsDir, Mounts: []SwapMount{{File: true, Base: "../x", Live: "/live/0", Staging: "/staging/0", Rollback: "/rollback/0"}}},
	} {
		if err := confineSpec(bad); err == nil || strings.Contains(err.Error(), "without following links") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if err := noSymlinks(t.TempDir()); err != nil {
		t.Errorf("a plain folder: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if err := noSymlinks(link); err == nil {
		t.Error("a symlink was followed")
	}
}
