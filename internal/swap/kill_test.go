package swap

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Environment of the child process of TestSwapKilled.
const (
	childPlanEnv  = "DOCKER_BACKUP_SWAP_TEST_PLAN"  // the plan, as JSON
	childExdevEnv = "DOCKER_BACKUP_SWAP_TEST_EXDEV" // "1": copy as across filesystems
)

// TestSwapKilledChild is the child of TestSwapKilled: it swaps, and before each step it
// says so on stdout and waits for a byte on stdin, so the parent knows where it kills it.
func TestSwapKilledChild(t *testing.T) {
	plan := os.Getenv(childPlanEnv)
	if plan == "" {
		t.Skip("run by TestSwapKilled")
	}
	var p Plan
	if err := json.Unmarshal([]byte(plan), &p); err != nil {
		t.Fatal(err)
	}
	s := newSwapper()
	if os.Getenv(childExdevEnv) == "1" {
		s.rename = exdev
	}
	n := 0
	ack := make([]byte, 1)
	s.hook = func(op string) error {
		n++
		fmt.Printf("step %d %s\n", n, op)
		_, err := io.ReadFull(os.Stdin, ack)
		return err
	}
	if err := s.swap(p); err != nil {
		t.Fatal(err)
	}
}

// killFixture is a fixture with enough top-level entries for a kill to land in the
// middle of each phase.
func killFixture(t *testing.T) *fixture {
	old, staged := oldTree(), newTree()
	for i := range 40 {
		old = append(old, node{path: fmt.Sprintf("old-%02d", i), kind: 'f', data: strings.Repeat("o", i*1000)})
		staged = append(staged, node{path: fmt.Sprintf("new-%02d", i), kind: 'f', data: strings.Repeat("n", i*1000)})
	}
	return newFixture(t, old, staged, testKeep)
}

// swapUntil runs the child swap and SIGKILLs it right after letting step kill begin (0:
// never). It returns how many steps the child began.
func swapUntil(t *testing.T, p Plan, copying bool, kill int) int {
	t.Helper()
	plan, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSwapKilledChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childPlanEnv+"="+string(plan))
	if copying {
		cmd.Env = append(cmd.Env, childExdevEnv+"=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	steps := 0
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if !strings.HasPrefix(lines.Text(), "step ") {
			out.WriteString(lines.Text() + "\n")
			continue
		}
		steps++
		if _, err := stdin.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
		if steps == kill {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if kill == 0 || steps < kill {
		if err != nil {
			t.Fatalf("child swap: %v\n%s", err, out.String())
		}
	}
	return steps
}

// TestSwapKilled kills a swap with SIGKILL at points spread over its steps, then
// resumes it: Live must be exactly the old tree or exactly the new one.
func TestSwapKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, copying := range []bool{false, true} {
		t.Run(fmt.Sprint("copying=", copying), func(t *testing.T) {
			total := swapUntil(t, killFixture(t).plan, copying, 0)
			for i := 1; i <= 12; i++ {
				kill := 1 + (total-1)*(i-1)/11
				t.Run(fmt.Sprint("kill at ", kill, " of ", total), func(t *testing.T) {
					f := killFixture(t)
					swapUntil(t, f.plan, copying, kill)
					r := newSwapper()
					if copying {
						r.rename = exdev
					}
					err := r.resume(f.plan.Journal)
					t.Logf("resume: %v", err)
					switch {
					case err == nil:
						f.live(t, true)
					case errors.Is(err, os.ErrNotExist): // killed before the first journal, or after the last step
						if d := diff(f.old, manifest(t, f.plan.Live)); d != "" {
							f.live(t, true)
						}
					default:
						t.Fatalf("resume: %v", err)
					}
				})
			}
		})
	}
}
