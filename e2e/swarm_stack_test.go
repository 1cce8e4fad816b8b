//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSwarmStackPlan deploys a compose file with x-backup blocks as a stack on a
// three-node swarm (PostgreSQL, a stand-in process as plan only reads it, pinned to
// worker 1; a stop: true volumes service to worker 2) and runs the plugin against the
// manager: plan (text and --json) names, per service, the node that holds its task and
// its local volume there; restore and up refuse this file (a folder repository, no
// agent_image) with a line for each, exit 2, and both leave the stack as it was (same
// tasks, same containers, nothing created on any node).
func TestSwarmStackPlan(t *testing.T) {
	t.Parallel()
	s := startSwarm(t, env.resticImage)
	ns := s.name + "-shop"
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-stack"))); err != nil {
		t.Fatal(err)
	}
	vars := []string{"IMAGE=" + env.resticImage, "WORKER1_HOSTNAME=" + s.Worker1.Hostname, "WORKER2_HOSTNAME=" + s.Worker2.Hostname}
	deploy := s.Cmd("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns)
	deploy.dir, deploy.env = dir, append(deploy.env, vars...)
	if r := deploy.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	placed := map[string]*swarmNode{"db": s.Worker1, "files": s.Worker2}
	eventually(t, 2*time.Minute, "the stack's tasks to run on their nodes", func() error {
		for svc, n := range placed {
			if got := lines(n.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+ns+"_"+svc)); len(got) != 1 {
				return fmt.Errorf("%s: %d running containers on %s", svc, len(got), n.Name)
			}
		}
		return nil
	})
	before := swarmContainers(t, s)

	backup := func(args ...string) result {
		t.Helper()
		c := s.Cmd(append([]string{"backup", "-p", ns}, args...)...)
		c.dir, c.env = dir, append(c.env, vars...)
		r := c.run()
		t.Logf("%s (on the manager): exit code %d", r.cmd, r.code)
		return r
	}

	t.Run("plan names each service's node and its local volume", func(t *testing.T) {
		r := backup("plan")
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		if !strings.Contains(r.stdout, "Stack ") || !strings.Contains(r.stdout, ns) {
			t.Errorf("plan has no Stack line naming %s:\n%s", ns, r.stdout)
		}
		for svc, n := range placed {
			want := fmt.Sprintf("%s (%s): running; volume %s local to %s", n.Hostname, n.NodeID[:12], ns+"_"+map[string]string{"db": "pgdata", "files": "files"}[svc], n.Hostname)
			if !strings.Contains(r.stdout, want) {
				t.Errorf("plan's block of %s has no task row %q:\n%s", svc, want, r.stdout)
			}
		}

		r = backup("plan", "--json")
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		var doc struct {
			Stack struct {
				Namespace string `json:"namespace"`
				Services  []struct {
					Name  string `json:"name"`
					Tasks []struct {
						Node struct{ ID, Hostname string } `json:"node"`
					} `json:"tasks"`
					Volumes []struct{ Name string } `json:"volumes"`
				} `json:"services"`
			} `json:"stack"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("plan --json: %v\n%s", err, r.stdout)
		}
		if doc.Stack.Namespace != ns || len(doc.Stack.Services) != 2 {
			t.Fatalf("plan --json's stack is %+v", doc.Stack)
		}
		for _, svc := range doc.Stack.Services {
			n := placed[svc.Name]
			if n == nil || len(svc.Tasks) != 1 || svc.Tasks[0].Node.ID != n.NodeID || svc.Tasks[0].Node.Hostname != n.Hostname {
				t.Errorf("plan --json: service %s has tasks %+v", svc.Name, svc.Tasks)
			}
		}
	})

	t.Run("up and restore refuse the stack and change nothing", func(t *testing.T) {
		// Both run on stacks, but not with this file's repository (the default
		// folder, one machine's) and no agent_image.
		for _, args := range [][]string{{"restore", "files", "--yes"}, {"up"}} {
			r := backup(args...)
			if r.code != 2 {
				t.Errorf("%s exits %d, want 2: %v", args[0], r.code, r)
			}
			got := lines(strings.TrimSpace(r.stderr))
			if len(got) != 2 || !strings.Contains(got[0], "compose.yaml: x-backup.repository: ") || !strings.Contains(got[1], "compose.yaml: x-backup.agent_image: not set") {
				t.Errorf("%s says\n%s\nwant a line naming x-backup.repository and one naming x-backup.agent_image", args[0], r.stderr)
			}
		}
		if after := swarmContainers(t, s); !slices.Equal(after, before) {
			t.Errorf("the nodes' containers changed:\nbefore %q\nafter  %q", before, after)
		}
	})
}

// swarmContainers lists every container of every node and of the host's engine that is
// not the host's own from before, as "node: ID status-word", sorted: what a refused
// command must leave as it was.
func swarmContainers(t *testing.T, s *swarm) []string {
	t.Helper()
	var all []string
	for _, n := range s.Nodes() {
		for _, l := range lines(n.MustDocker(t, "ps", "-a", "--format", "{{.ID}} {{.State}}")) {
			all = append(all, n.Name+": "+l)
		}
	}
	slices.Sort(all)
	return all
}
