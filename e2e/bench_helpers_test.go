//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

// newBenchProject is newProject plus the repository password file that the bench
// scenarios' x-backup.password_file names.
func newBenchProject(b *testing.B, scenario string) *project {
	b.Helper()
	p := newProject(b, scenario)
	if err := os.WriteFile(p.passwordFile(), []byte("bench-"+randomHex(8)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// passwordFile is the repository password file of a bench scenario.
func (p *project) passwordFile() string { return filepath.Join(p.dir, "restic-password") }

// repository is the project's default local repository folder.
func (p *project) repository() string { return filepath.Join(p.dir, "backups") }

// mustRun runs a command and fails the benchmark unless it succeeds.
func mustRun(b *testing.B, c cmdSpec) result {
	b.Helper()
	r := c.run()
	if r.code != 0 {
		b.Fatalf("%v", r)
	}
	return r
}

// timed runs a whole command and returns its wall time; it fails the benchmark unless
// the command succeeds.
func timed(b *testing.B, what string, c cmdSpec) time.Duration {
	b.Helper()
	// Flush what earlier steps wrote, so that no step pays for another's writeback.
	syscall.Sync()
	start := time.Now()
	r := c.run()
	d := time.Since(start)
	if r.code != 0 {
		b.Fatalf("%s: %v", what, r)
	}
	out := lines(r.stdout)
	b.Logf("%s: %s\n%s", what, d.Round(time.Millisecond), strings.Join(out[max(0, len(out)-3):], "\n"))
	return d
}

// inHelper runs a shell script in a throw-away container of the e2e database image (it has
// coreutils and findutils, the restic image has not), with the given -v mounts.
func inHelper(b *testing.B, script string, mounts ...string) string {
	b.Helper()
	argv := []string{"docker", "run", "--rm", "--network", "none", "--name", runPrefix + "bench" + randomHex(3)}
	for _, m := range mounts {
		argv = append(argv, "-v", m)
	}
	return mustRun(b, cmdSpec{argv: append(argv, env.dbImage, "sh", "-c", script)}).stdout
}

// folderBytes is the sum of the sizes of the files under a host folder, read by a helper
// container: a repository written by the plugin's helpers belongs to root.
func folderBytes(b *testing.B, dir string) int64 {
	b.Helper()
	out := inHelper(b, `find /x -type f -printf '%s\n' | awk '{s+=$1} END {printf "%d\n", s}'`, dir+":/x:ro")
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		b.Fatalf("size of %s: %q", dir, out)
	}
	return n
}

// helperSpan is one helper container's life during a command, from the engine's events.
type helperSpan struct {
	kind                        string
	create, start, die, destroy time.Time
	// exec is an exec in one of our containers, not a container.
	exec bool
}

// helperWatch follows the engine's events of the project's helpers while a command runs.
// It streams them live: the engine's event history is short, and on a busy engine a
// query after the fact misses some.
type helperWatch struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	spans map[string]*helperSpan
	order []string
}

func watchHelpers(p *project) *helperWatch {
	w := &helperWatch{spans: map[string]*helperSpan{}}
	since := time.Now()
	w.cmd = exec.Command("docker", "events", "--format", "{{json .}}", "--since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		"--filter", "type=container", "--filter", "label=io.docker-backup.project="+p.name)
	w.cmd.Env = env.base
	out, err := w.cmd.StdoutPipe()
	if err != nil || w.cmd.Start() != nil {
		w.cmd = nil
		return w
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.add(sc.Bytes())
		}
	}()
	return w
}

func (w *helperWatch) add(line []byte) {
	var e struct {
		Action string `json:"Action"`
		Actor  struct {
			ID         string            `json:"ID"`
			Attributes map[string]string `json:"Attributes"`
		} `json:"Actor"`
		TimeNano int64 `json:"timeNano"`
	}
	if json.Unmarshal(line, &e) != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// The run's anchor runs restic commands as execs (its host): each is a span of its
	// own, named after the command, from exec_start to exec_die.
	if execID := e.Actor.Attributes["execID"]; execID != "" {
		s := w.spans[execID]
		if s == nil {
			s = &helperSpan{exec: true}
			w.spans[execID] = s
			w.order = append(w.order, execID)
		}
		t := time.Unix(0, e.TimeNano)
		switch {
		case strings.HasPrefix(e.Action, "exec_start"):
			f := strings.Fields(e.Action)
			if i := slices.Index(f, "restic"); i >= 0 && i+1 < len(f) {
				s.kind = "restic " + f[i+1]
			}
			s.create, s.start = t, t
		case e.Action == "exec_die":
			s.die, s.destroy = t, t
		}
		return
	}
	s := w.spans[e.Actor.ID]
	if s == nil {
		s = &helperSpan{kind: e.Actor.Attributes["io.docker-backup.kind"]}
		w.spans[e.Actor.ID] = s
		w.order = append(w.order, e.Actor.ID)
	}
	t := time.Unix(0, e.TimeNano)
	switch e.Action {
	case "create":
		s.create = t
	case "start":
		s.start = t
	case "die":
		s.die = t
	case "destroy":
		s.destroy = t
	}
}

// stop waits briefly for the destroy event of every helper seen, stops following, and
// returns the helpers in the order they were created.
func (w *helperWatch) stop() []helperSpan {
	if w.cmd == nil {
		return nil
	}
	tick := time.NewTicker(50 * time.Millisecond)
	for deadline := time.Now().Add(5 * time.Second); !w.complete() && time.Now().Before(deadline); {
		<-tick.C
	}
	tick.Stop()
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	var spans []helperSpan
	for _, id := range w.order {
		spans = append(spans, *w.spans[id])
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].create.Before(spans[j].create) })
	return spans
}

func (w *helperWatch) complete() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.spans {
		if s.destroy.IsZero() {
			return false
		}
	}
	return true
}

// breakdown describes where a command's wall time went: taking and releasing the run's
// anchor, each helper's whole life (and, in brackets, how long restic itself ran in it),
// and the time outside any of them.
func breakdown(total time.Duration, spans []helperSpan) string {
	var parts []string
	var inHelpers time.Duration
	for _, s := range spans {
		if s.create.IsZero() || s.destroy.IsZero() {
			return "helper breakdown unavailable (events missing)"
		}
		if s.exec {
			if s.kind != "" { // an exec of the anchor's host; other execs are the services'
				parts = append(parts, fmt.Sprintf("%s in the anchor %s", s.kind, secs(s.die.Sub(s.start))))
				inHelpers += s.die.Sub(s.start)
			}
			continue
		}
		if s.kind == "run" {
			// The run's anchor lives as long as the run: only taking and releasing it count.
			setup, release := s.start.Sub(s.create), s.destroy.Sub(s.die)
			inHelpers += setup + release
			parts = append(parts, fmt.Sprintf("anchor %s + %s", secs(setup), secs(release)))
			continue
		}
		life := s.destroy.Sub(s.create)
		inHelpers += life
		parts = append(parts, fmt.Sprintf("%s %s (restic %s)", s.kind, secs(life), secs(s.die.Sub(s.start))))
	}
	return fmt.Sprintf("%s; outside helpers %s", strings.Join(parts, ", "), secs(total-inHelpers))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// upRun is one timed `docker backup up` with the life of its helpers.
type upRun struct {
	wall      time.Duration
	breakdown string
}

// timedUp runs `docker backup up args…` in the project's folder as a user would, through
// the docker CLI.
func timedUp(b *testing.B, p *project, what string, args ...string) upRun {
	b.Helper()
	w := watchHelpers(p)
	d := timed(b, what, p.cmd(append([]string{"docker", "backup", "up"}, args...)))
	return upRun{wall: d, breakdown: breakdown(d, w.stop())}
}

// goal is one ratio of the issue, its target, and the metric it is reported as.
type goal struct {
	name   string
	metric string // the unit for b.ReportMetric, e.g. "x-up-vs-restic"
	value  float64
	shown  string // value as printed, e.g. "1.04×"
	target string
	met    bool
}

// report prints the measurements and the goals as tables on stdout and reports every
// value as a benchmark metric.
func report(b *testing.B, title string, rows [][]string, goals []goal, notes []string) {
	b.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%s\n", title)
	tw := tabwriter.NewWriter(&sb, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  measurement\twall time\tthroughput\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t\n", strings.Join(r, "\t"))
	}
	tw.Flush()
	tw = tabwriter.NewWriter(&sb, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  goal\tmeasured\ttarget\tmet\t")
	for _, g := range goals {
		met := "yes"
		if !g.met {
			met = "NO"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", g.name, g.shown, g.target, met)
		b.ReportMetric(g.value, g.metric)
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(&sb, "  %s\n", n)
	}
	fmt.Print(sb.String())
}

// row is a measurement line: what, its wall time and, for a copy of size bytes, the rate.
func row(what string, d time.Duration, size int64) []string {
	rate := ""
	if size > 0 {
		rate = fmt.Sprintf("%.1f MiB/s", float64(size)/(1<<20)/d.Seconds())
	}
	return []string{what, secs(d), rate}
}
