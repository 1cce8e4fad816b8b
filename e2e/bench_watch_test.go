//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperSpan is one helper container's life during a command, from the engine's events.
type helperSpan struct {
	kind                        string
	create, start, die, destroy time.Time
	// exec is a restic command run as an exec in the run's anchor, not a container.
	exec bool
}

// agentOnlyKinds are the io.docker-backup.kind values of our containers that run no
// restic: the run's anchor (its restic commands are execs, counted apart), a restore's
// preflight, swap and empty-volume check, the engine-socket check, a stack's hook and
// volume jobs, a drill's container of the service's image. Every other kind is a restic
// invocation's (restic.Invocation.Kind: open, snapshots, backup, restore, ls, forget…,
// dump and dump-restore, whose agent runs restic as its child), one restic process each.
var agentOnlyKinds = []string{"run", "restore-preflight", "restore-swap", "restore-check", "engine-check", "hook", "node-volumes", "verify"}

// runsRestic reports whether a helper span stands for one restic process.
func (s helperSpan) runsRestic() bool {
	if s.exec {
		return s.kind != ""
	}
	return !slices.Contains(agentOnlyKinds, s.kind)
}

// helperWatch follows the engine's events of a project while a command runs: its
// helpers (our label), the restic execs of its anchor, and the deaths and starts of its
// services' containers (compose's label), which give each service's downtime. It
// streams them live: the engine's event history is short, and on a busy engine a query
// after the fact misses some.
type helperWatch struct {
	project string
	cmd     *exec.Cmd
	mu      sync.Mutex
	spans   map[string]*helperSpan
	order   []string
	// died is when a service's container died and has not started since.
	died map[string]time.Time
	down map[string]time.Duration
}

func watchHelpers(p *project) *helperWatch {
	w := &helperWatch{project: p.name, spans: map[string]*helperSpan{}, died: map[string]time.Time{}, down: map[string]time.Duration{}}
	since := time.Now()
	// One label filter only: the engine ANDs label filters, and helpers carry ours,
	// services compose's. Other projects' events are dropped in add.
	w.cmd = exec.Command("docker", "events", "--format", "{{json .}}", "--since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		"--filter", "type=container")
	w.cmd.Env = env.base
	out, err := w.cmd.StdoutPipe()
	if err != nil || w.cmd.Start() != nil {
		w.cmd = nil
		return w
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
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
	a, t := e.Actor.Attributes, time.Unix(0, e.TimeNano)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case a["io.docker-backup.project"] == w.project:
		w.helperEvent(e.Actor.ID, e.Action, a, t)
	case a["com.docker.compose.project"] == w.project && a["com.docker.compose.oneoff"] != "True" && a["execID"] == "":
		svc := a["com.docker.compose.service"]
		switch e.Action {
		case "die":
			w.died[svc] = t
		case "start":
			if d, ok := w.died[svc]; ok {
				w.down[svc] += t.Sub(d)
				delete(w.died, svc)
			}
		}
	}
}

func (w *helperWatch) helperEvent(id, action string, a map[string]string, t time.Time) {
	// The run's anchor runs restic commands as execs (its host): each is a span of its
	// own, named after the command, from exec_start to exec_die.
	if execID := a["execID"]; execID != "" {
		s := w.spans[execID]
		if s == nil {
			s = &helperSpan{exec: true}
			w.spans[execID] = s
			w.order = append(w.order, execID)
		}
		switch {
		case strings.HasPrefix(action, "exec_start"):
			s.kind = resticCommand(action)
			s.create, s.start = t, t
		case action == "exec_die":
			s.die, s.destroy = t, t
		}
		return
	}
	s := w.spans[id]
	if s == nil {
		s = &helperSpan{kind: a["io.docker-backup.kind"]}
		w.spans[id] = s
		w.order = append(w.order, id)
	}
	switch action {
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

// resticCommand is "restic CMD" for an exec_start action that runs restic through the
// agent (agent restic-held CMD …, agent restic CMD …), else "".
func resticCommand(action string) string {
	f := strings.Fields(action)
	for i, w := range f {
		if (w == "restic" || w == "restic-held") && i+1 < len(f) {
			return "restic " + f[i+1]
		}
	}
	return ""
}

// watched is what a helperWatch saw during one command.
type watched struct {
	spans []helperSpan
	// down is each service's time between its container's die and its next start;
	// stillDown names the services whose container died and did not start again.
	down      map[string]time.Duration
	stillDown []string
}

// stop waits briefly for the destroy event of every helper seen, stops following, and
// returns what it saw, helpers in the order they were created.
func (w *helperWatch) stop() watched {
	if w.cmd == nil {
		return watched{}
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
	var r watched
	for _, id := range w.order {
		r.spans = append(r.spans, *w.spans[id])
	}
	sort.Slice(r.spans, func(i, j int) bool { return r.spans[i].create.Before(r.spans[j].create) })
	r.down = w.down
	for svc := range w.died {
		r.stillDown = append(r.stillDown, svc)
	}
	sort.Strings(r.stillDown)
	return r
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

// counts is how many restic processes ran (helpers of a restic kind and the anchor's
// restic execs) and how many helper containers started (the anchor not counted).
func (r watched) counts() (restic, helpers int) {
	for _, s := range r.spans {
		if s.runsRestic() {
			restic++
		}
		if !s.exec && s.kind != "run" && !s.start.IsZero() {
			helpers++
		}
	}
	return restic, helpers
}

// downtime is a service's time down (die to start) during the command; ok is false when
// its container did not start again.
func (r watched) downtime(service string) (d time.Duration, ok bool) {
	return r.down[service], !slices.Contains(r.stillDown, service)
}

// breakdown describes where a command's wall time went: how many restic processes and
// helper starts it took, taking and releasing the run's anchor, each helper's whole
// life (and, in brackets, how long its main process ran), each restic exec in the
// anchor, and the time outside any of them.
func breakdown(total time.Duration, r watched) string {
	restic, helpers := r.counts()
	head := fmt.Sprintf("restic processes %d, helper starts %d: ", restic, helpers)
	var parts []string
	var inHelpers time.Duration
	for _, s := range r.spans {
		if s.create.IsZero() || s.destroy.IsZero() {
			return head + "helper breakdown unavailable (events missing)"
		}
		if s.exec {
			if s.kind != "" {
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
		parts = append(parts, fmt.Sprintf("%s %s (runs %s)", s.kind, secs(life), secs(s.die.Sub(s.start))))
	}
	return fmt.Sprintf("%s%s; outside helpers %s", head, strings.Join(parts, ", "), secs(total-inHelpers))
}

// compactBreakdown is breakdown for commands with many helpers: the counts, the helpers'
// total life per kind, the anchor's restic execs per command.
func compactBreakdown(_ time.Duration, r watched) string {
	restic, helpers := r.counts()
	life := map[string]time.Duration{}
	n := map[string]int{}
	for _, s := range r.spans {
		if s.create.IsZero() || s.destroy.IsZero() {
			continue
		}
		k, d := s.kind, s.destroy.Sub(s.create)
		switch {
		case s.exec && k == "":
			continue
		case s.exec:
			k += " in the anchor"
		case k == "run":
			k, d = "anchor", s.start.Sub(s.create)+s.destroy.Sub(s.die)
		}
		life[k] += d
		n[k]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(life)) {
		parts = append(parts, fmt.Sprintf("%d× %s %s", n[k], k, secs(life[k])))
	}
	return fmt.Sprintf("restic processes %d, helper starts %d: %s (lives summed per kind; they overlap)",
		restic, helpers, strings.Join(parts, ", "))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// upRun is one timed command with what the engine's events said about it.
type upRun struct {
	wall      time.Duration
	breakdown string
	watched   watched
}

// restic and helpers are the run's restic processes and helper starts.
func (u upRun) restic() int  { r, _ := u.watched.counts(); return r }
func (u upRun) helpers() int { _, h := u.watched.counts(); return h }

// timedUp runs `docker backup up args…` in the project's folder as a user would, through
// the docker CLI.
func timedUp(b *testing.B, p *project, what string, args ...string) upRun {
	b.Helper()
	return timedWatched(b, p, what, append([]string{"docker", "backup", "up"}, args...), breakdown)
}

// timedWatched runs a command in the project's folder, timed and watched.
func timedWatched(b *testing.B, p *project, what string, argv []string, describe func(time.Duration, watched) string) upRun {
	b.Helper()
	w := watchHelpers(p)
	d := timed(b, what, p.cmd(argv))
	r := w.stop()
	return upRun{wall: d, breakdown: describe(d, r), watched: r}
}

// reportCounts reports a command's restic processes and helper starts as metrics.
func reportCounts(b *testing.B, name string, u upRun) {
	b.ReportMetric(float64(u.restic()), "restic-"+name)
	b.ReportMetric(float64(u.helpers()), "helpers-"+name)
}
