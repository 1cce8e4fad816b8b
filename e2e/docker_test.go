//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// result is what a command left behind.
type result struct {
	cmd    string
	stdout string
	stderr string
	code   int
}

// String describes the run for failure messages.
func (r result) String() string {
	return fmt.Sprintf("%s: exit code %d\nstdout:\n%s\nstderr:\n%s", r.cmd, r.code, r.stdout, r.stderr)
}

// cmdSpec is one command to run: argv, working folder, extra environment, stdin.
type cmdSpec struct {
	argv  []string
	dir   string
	env   []string
	stdin string
}

// run runs a command with the tests' environment and never fails the test: a command
// that could not start at all reports exit code -1.
func (c cmdSpec) run() result {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	cmd.Env = append(append([]string{}, env.base...), c.env...)
	if c.stdin != "" {
		cmd.Stdin = strings.NewReader(c.stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{cmd: strings.Join(c.argv, " "), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// runDocker runs `docker args…` with the tests' DOCKER_CONFIG, so `docker backup` is the
// binary under test. It does not fail on a non-zero exit: the caller checks.
func runDocker(t testing.TB, args ...string) result {
	t.Helper()
	r := cmdSpec{argv: append([]string{"docker"}, args...)}.run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	return r
}

// mustDocker runs `docker args…`, fails the test unless it succeeds, and returns stdout.
func mustDocker(t testing.TB, args ...string) string {
	t.Helper()
	r := cmdSpec{argv: append([]string{"docker"}, args...)}.run()
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return r.stdout
}

// eventually polls check until it returns nil, and fails the test with the last error
// once timeout has passed. Waits in e2e code go through here, never through a fixed sleep.
func eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	if err := poll(timeout, check); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// stopPoll wraps a check's error that ends a poll at once: waiting longer cannot help
// (a process it waits on has exited).
type stopPoll struct{ error }

// poll calls check every 250 ms until it returns nil, and returns its last error once
// timeout has passed ("gave up after …"), or at once an error wrapped in stopPoll: the
// wait of harness code that reports an error rather than failing a test (eventually is
// poll for a test).
func poll(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		var stop stopPoll
		switch {
		case err == nil:
			return nil
		case errors.As(err, &stop):
			return stop.error
		case time.Now().After(deadline):
			return fmt.Errorf("gave up after %s: %w", timeout, err)
		}
		<-tick.C
	}
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// leftovers removes, and describes, any container, volume or network whose name or
// labels carry this run's project prefix once all tests have run. Each test cleans up
// after itself, so anything found here is a bug in a test or in the plugin. Other runs'
// projects (another developer's tests on the same engine) have other prefixes. What a
// second engine (startRemoteEngine) left is checked too.
func leftovers() string {
	var b strings.Builder
	for _, kind := range []struct {
		name   string
		ls, rm []string
	}{
		{"container", []string{"ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Labels}}"}, []string{"rm", "-f", "-v"}},
		{"volume", []string{"volume", "ls", "--format", "{{.Name}} {{.Name}} {{.Labels}}"}, []string{"volume", "rm", "-f"}},
		{"network", []string{"network", "ls", "--format", "{{.ID}} {{.Name}} {{.Labels}}"}, []string{"network", "rm"}},
	} {
		r := cmdSpec{argv: append([]string{"docker"}, kind.ls...)}.run()
		for _, l := range lines(r.stdout) {
			id, rest, _ := strings.Cut(l, " ")
			if !strings.Contains(rest, runPrefix) {
				continue
			}
			fmt.Fprintf(&b, "  %s %s\n", kind.name, rest)
			cmdSpec{argv: append(append([]string{"docker"}, kind.rm...), id)}.run()
		}
	}
	b.WriteString(remoteLeftovers())
	return b.String()
}
