package restic

import (
	"context"
	"slices"
	"testing"
)

var testFrom = FromRepository{RepositoryFile: "/run/from-repository", PasswordFile: "/run/from-password"}

// Copy names the source by files only, copies the IDs given, runs held, and reports each
// snapshot begun and saved from restic's text output.
func TestCopy(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"copy": "\nsnapshot ff50899a of [/d] at 2026-12-07 19:27:04 +0000 UTC by @p@m\n" +
		"  copy started, this may take a while...\n[0:00] 100.00%  2 / 2 packs copied\n\nsnapshot c8ada302 saved\n" +
		"\nsnapshot f3096f29 of [/d] at 2026-12-07 19:27:03 +0000 UTC by @p@m\nsnapshot d4640a59 saved\n"}}
	var got []CopyProgress
	if err := Copy(context.Background(), r, testFrom, []string{"ff50899a", "f3096f29"}, func(p CopyProgress) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	want := "copy --from-repository-file /run/from-repository --from-password-file /run/from-password ff50899a f3096f29"
	if a := r.argv(); len(a) != 1 || a[0] != want {
		t.Errorf("argv %q, want %q", a, want)
	}
	if inv := r.invs[0]; !inv.Held || inv.Kind != KindCopy {
		t.Errorf("invocation held %t, kind %q; want held, %q", inv.Held, inv.Kind, KindCopy)
	}
	wantProgress := []CopyProgress{{Source: "ff50899a"}, {Saved: "c8ada302"}, {Source: "f3096f29"}, {Saved: "d4640a59"}}
	if !slices.Equal(got, wantProgress) {
		t.Errorf("progress %v, want %v", got, wantProgress)
	}
	r = &fakeRunner{}
	if err := Copy(context.Background(), r, testFrom, nil, nil); err != nil || len(r.invs) != 0 {
		t.Errorf("copy of nothing ran %q, %v", r.argv(), err)
	}
}

// InitFrom creates the repository with the source's chunker parameters.
func TestInitFrom(t *testing.T) {
	r := &fakeRunner{}
	if err := InitFrom(context.Background(), r, testFrom); err != nil {
		t.Fatal(err)
	}
	want := "init --from-repository-file /run/from-repository --from-password-file /run/from-password --copy-chunker-params"
	if a := r.argv(); len(a) != 1 || a[0] != want || r.invs[0].Kind != KindInitFrom {
		t.Errorf("argv %q kind %q, want %q", a, r.invs[0].Kind, want)
	}
	r = &fakeRunner{errs: map[string]error{"init": &ExitError{Code: 1, Message: "Fatal: create repository failed"}}}
	if err := InitFrom(context.Background(), r, testFrom); err == nil {
		t.Error("a failed init is no error")
	}
}

// Kept asks forget for its plan without a lock and without forgetting anything.
func TestKept(t *testing.T) {
	r := &fakeRunner{out: map[string]string{"forget": `[{"host":"shop@m1","paths":["/db.sql"],"keep":[{"id":"k1"}],"remove":[{"id":"r1"}]}]` + "\n"}}
	groups, err := Kept(context.Background(), r, ForgetOptions{Filter: SnapshotFilter{Tags: []string{"project=shop"}}, GroupBy: "host,paths",
		Keep: KeepPolicy{Last: 2}, Prune: true, IDs: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "forget --json --dry-run --no-lock --group-by host,paths --tag project=shop --keep-last 2"
	if a := r.argv(); len(a) != 1 || a[0] != want {
		t.Errorf("argv %q, want %q", a, want)
	}
	if len(groups) != 1 || groups[0].Keep[0].ID != "k1" || groups[0].Remove[0].ID != "r1" {
		t.Errorf("groups %+v", groups)
	}
	if _, err := Kept(context.Background(), r, ForgetOptions{}); err == nil {
		t.Error("no policy: no error")
	}
}
