//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// watchedRun is a command whose combined output is watched for a string as it comes:
// hit is closed the moment the output holds it.
type watchedRun struct {
	cmd  *exec.Cmd
	argv string
	want string
	hit  chan struct{}
	done chan struct{}
	res  result

	mu   sync.Mutex
	out  bytes.Buffer
	seen bool
}

// Write takes the command's stdout and stderr.
func (w *watchedRun) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(b)
	if !w.seen && strings.Contains(w.out.String(), w.want) {
		w.seen = true
		close(w.hit)
	}
	return len(b), nil
}

// startWatched starts argv in the project's folder, watching its output for want.
// Cleanup kills it if it still runs.
func (p *project) startWatched(t *testing.T, want string, argv ...string) *watchedRun {
	t.Helper()
	c := p.cmd(argv)
	w := &watchedRun{cmd: exec.Command(argv[0], argv[1:]...), argv: strings.Join(argv, " "), want: want,
		hit: make(chan struct{}), done: make(chan struct{})}
	w.cmd.Dir = c.dir
	w.cmd.Env = append(append([]string{}, env.base...), c.env...)
	w.cmd.Stdout, w.cmd.Stderr = w, w
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", w.argv, err)
	}
	go func() {
		err := w.cmd.Wait()
		w.mu.Lock()
		w.res = result{cmd: w.argv, stdout: w.out.String(), code: exitCodeOf(err)}
		w.mu.Unlock()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Kill()
			<-w.done
		}
	})
	return w
}

// killAtHit kills the command (kill -9) the moment its output holds the string, and
// waits for it to end. The command ending first, or not getting there in time, fails
// the test.
func (w *watchedRun) killAtHit(t *testing.T) {
	t.Helper()
	w.awaitHit(t)
	w.kill(t)
}

// awaitHit waits for the command's output to hold the string. The command ending
// first, or not getting there in time, fails the test.
func (w *watchedRun) awaitHit(t *testing.T) {
	t.Helper()
	select {
	case <-w.hit:
	case <-w.done:
		t.Fatalf("%s ended before it printed %q: %v", w.argv, w.want, w.res)
	case <-time.After(helperWait):
		t.Fatalf("%s did not print %q within %s", w.argv, w.want, helperWait)
	}
}

// kill kills the command (kill -9) and waits for it to end.
func (w *watchedRun) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("killing %s: %v", w.argv, err)
	}
	<-w.done
	t.Logf("%s killed (kill -9); its output:\n%s", w.argv, w.res.stdout)
}

// watchRootMounts inspects each container of the project as the engine creates it, and
// reports (when the returned function is called, which ends the watch) those that
// bind-mount the host's / or a folder that holds canary, or canary itself. A container
// removed before it could be inspected is counted, not reported.
func watchRootMounts(t *testing.T, p *project, canary string) func() []string {
	t.Helper()
	sc, stop := dockerEvents(t, "{{.ID}}", "type=container", "event=create", "label="+labelProject+"="+p.name)
	var found []string
	inspected, gone := 0, 0
	finished := make(chan struct{})
	suspicious := func(src string) bool {
		src = filepath.Clean(src)
		return src == "/" || src == canary || strings.HasPrefix(canary, strings.TrimSuffix(src, "/")+"/")
	}
	go func() {
		defer close(finished)
		for sc.Scan() {
			id := strings.TrimSpace(sc.Text())
			r := cmdSpec{argv: []string{"docker", "inspect", "--format",
				`{{.Name}} {{index .Config.Labels "` + labelKind + `"}}|{{json .HostConfig.Mounts}}|{{json .HostConfig.Binds}}`, id}}.run()
			if r.code != 0 {
				gone++
				continue
			}
			inspected++
			name, rest, _ := strings.Cut(strings.TrimSpace(r.stdout), "|")
			mountsJSON, bindsJSON, _ := strings.Cut(rest, "|")
			var mounts []struct{ Type, Source, Target string }
			var binds []string
			_ = json.Unmarshal([]byte(mountsJSON), &mounts)
			_ = json.Unmarshal([]byte(bindsJSON), &binds)
			for _, m := range mounts {
				if m.Type == "bind" && suspicious(m.Source) {
					found = append(found, fmt.Sprintf("%s: %s at %s", name, m.Source, m.Target))
				}
			}
			for _, b := range binds {
				if src, _, _ := strings.Cut(b, ":"); strings.HasPrefix(src, "/") && suspicious(src) {
					found = append(found, fmt.Sprintf("%s: %s", name, b))
				}
			}
		}
	}()
	return func() []string {
		stop()
		<-finished
		t.Logf("inspected %d containers of the project as they were created (%d were gone before)", inspected, gone)
		return found
	}
}
