package run

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/restic"
)

// A run with a host runs the restic commands it has the mounts for as execs in its
// anchor, which holds the repository, the secrets and those mounts; the others, and
// any with streamed input, still get helpers of their own.
func TestHostRunsResticInTheAnchor(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var execs [][]string
	f.eng.Exec = func(x *enginetest.ExecProcess) int {
		mu.Lock()
		execs = append(execs, x.Cmd)
		mu.Unlock()
		if slices.Contains(x.Cmd, "snapshots") {
			_, _ = x.Stdout.Write([]byte("[]\n"))
		}
		return 0
	}
	data := restic.Mount{Type: "volume", Source: "shop_data", Target: "/backup/files/data", ReadOnly: true}
	o := f.options()
	o.Host, o.Mounts = true, []restic.Mount{data}
	r := f.begin(o)
	anchor, ok := f.eng.Container(anchorName("shop"))
	if !ok || !anchor.Running() {
		t.Fatalf("anchor %+v", anchor)
	}
	var targets []string
	for _, m := range anchor.HostConfig.Mounts {
		targets = append(targets, m.Target)
	}
	for _, want := range []string{"/repo", "/cache", "/tmp", "/backup/files/data"} {
		if !slices.Contains(targets, want) {
			t.Errorf("anchor mounts %v, want %s among them", targets, want)
		}
	}
	if anchor.Files["/run/docker-backup/password"] == "" || anchor.Config.Hostname != "docker-backup-"+r.ID || !*anchor.HostConfig.Init {
		t.Errorf("anchor files %v, hostname %q, init %v: want the helpers' secrets, hostname and init", anchor.Files, anchor.Config.Hostname, anchor.HostConfig.Init)
	}
	// Opening the repository ran in the anchor already.
	helpersBefore := len(f.eng.Created())
	if err := r.Runner.Run(context.Background(), restic.Invocation{Args: []string{"backup", "/backup/files/data"}, Mounts: []restic.Mount{data}, Kind: "backup"}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.eng.Created()); got != helpersBefore {
		t.Errorf("%d helper(s) created for a command the anchor has the mounts for", got-helpersBefore)
	}
	mu.Lock()
	last := strings.Join(execs[len(execs)-1], " ")
	opened := slices.ContainsFunc(execs, func(c []string) bool { return slices.Contains(c, "snapshots") })
	mu.Unlock()
	if last != "/usr/local/bin/docker-backup agent restic-held backup /backup/files/data" || !opened {
		t.Errorf("execs %q: want the repository opened and the backup run through the agent in the anchor", execs)
	}
	other := restic.Mount{Type: "volume", Source: "shop_other", Target: "/backup/other/x", ReadOnly: true}
	if err := r.Runner.Run(context.Background(), restic.Invocation{Args: []string{"backup", "/backup/other/x"}, Mounts: []restic.Mount{other}, Kind: "backup"}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.eng.Created()); got != helpersBefore+1 {
		t.Errorf("%d helper(s) for a mount the anchor lacks, want 1", got-helpersBefore)
	}
	r.End(context.Background())
	helpersBefore = len(f.eng.Created())
	if err := r.Runner.Run(context.Background(), restic.Invocation{Args: []string{"backup", "/backup/files/data"}, Mounts: []restic.Mount{data}, Kind: "backup"}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.eng.Created()); got != helpersBefore+1 {
		t.Errorf("%d helper(s) after the run ended, want 1: the runner keeps a host", got-helpersBefore)
	}
}
