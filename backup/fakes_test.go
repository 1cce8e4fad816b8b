package backup

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// fakeEngine embeds engine.API: a call it does not override panics, so a test that
// reaches the engine unexpectedly fails loudly.
type fakeEngine struct {
	engine.API
	mu         sync.Mutex
	containers []container.Summary
	calls      []string
	// execs maps a command's last word to what it prints and its exit code.
	execs map[string]fakeExec
}

type fakeExec struct {
	stdout, stderr string
	code           int
}

func (f *fakeEngine) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeEngine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	var out []container.Summary
	for _, c := range f.containers {
		if matches(c.Labels, o.Filters["label"]) && (o.All || c.State == container.StateRunning) {
			out = append(out, c)
		}
	}
	return client.ContainerListResult{Items: out}, nil
}

func matches(labels map[string]string, want map[string]bool) bool {
	for kv := range want {
		k, v, _ := strings.Cut(kv, "=")
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (f *fakeEngine) ContainerStop(_ context.Context, id string, _ client.ContainerStopOptions) (client.ContainerStopResult, error) {
	f.record("stop " + id)
	return client.ContainerStopResult{}, nil
}

func (f *fakeEngine) ContainerStart(_ context.Context, id string, _ client.ContainerStartOptions) (client.ContainerStartResult, error) {
	f.record("start " + id)
	return client.ContainerStartResult{}, nil
}

func (f *fakeEngine) ExecCreate(_ context.Context, id string, o client.ExecCreateOptions) (client.ExecCreateResult, error) {
	f.record("exec " + strings.Join(o.Cmd, " "))
	return client.ExecCreateResult{ID: o.Cmd[len(o.Cmd)-1]}, nil
}

// ExecAttach serves the exec's output as the engine does: multiplexed frames.
func (f *fakeEngine) ExecAttach(_ context.Context, execID string, _ client.ExecAttachOptions) (client.ExecAttachResult, error) {
	e, ok := f.execs[execID]
	if !ok {
		return client.ExecAttachResult{}, fmt.Errorf("no fake exec for %q", execID)
	}
	ours, theirs := net.Pipe()
	go func() {
		defer ours.Close()
		writeFrame(ours, 1, e.stdout)
		writeFrame(ours, 2, e.stderr)
	}()
	return client.ExecAttachResult{HijackedResponse: client.NewHijackedResponse(theirs, "")}, nil
}

func writeFrame(w io.Writer, stream byte, s string) {
	if s == "" {
		return
	}
	hdr := make([]byte, 8)
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(s)))
	_, _ = w.Write(append(hdr, s...))
}

func (f *fakeEngine) ExecInspect(_ context.Context, execID string, _ client.ExecInspectOptions) (client.ExecInspectResult, error) {
	return client.ExecInspectResult{ExitCode: f.execs[execID].code}, nil
}

// fakeRunner records restic invocations and answers them like restic would.
type fakeRunner struct {
	mu   sync.Mutex
	invs []restic.Invocation
	// stdin is what a --stdin backup read; stdinErr how its input ended.
	stdin    string
	stdinErr error
	// answer, if set, decides a run's outcome from its argv.
	answer func(args []string) (stdout string, err error)
}

func (r *fakeRunner) Run(_ context.Context, inv restic.Invocation) error {
	r.mu.Lock()
	r.invs = append(r.invs, inv)
	r.mu.Unlock()
	if inv.Stdin != nil {
		b, err := io.ReadAll(inv.Stdin)
		r.mu.Lock()
		r.stdin, r.stdinErr = string(b), err
		r.mu.Unlock()
		if err != nil {
			// As engine.RunHelper: the helper is killed before its input closes.
			return fmt.Errorf("%w: %w", engine.ErrInputFailed, err)
		}
	}
	stdout, err := `{"message_type":"summary","files_new":1,"snapshot_id":"abcdef1234567890"}`, error(nil)
	if r.answer != nil {
		stdout, err = r.answer(inv.Args)
	}
	if inv.Stdout != nil {
		_, _ = io.WriteString(inv.Stdout, stdout+"\n")
	}
	return err
}

// commands lists the restic commands run, one string each.
func (r *fakeRunner) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, inv := range r.invs {
		out = append(out, strings.Join(inv.Args, " "))
	}
	return out
}

// nopReporter ignores progress.
type nopReporter struct{}

func (nopReporter) Start(string, composeext.Strategy) {}
func (nopReporter) Progress(string, restic.Status)    {}
func (nopReporter) Done(Result)                       {}
func (nopReporter) Warn(string)                       {}

func serviceContainer(id, project, service string, running bool) container.Summary {
	state := container.StateExited
	if running {
		state = container.StateRunning
	}
	return container.Summary{ID: id, Names: []string{"/" + project + "-" + service + "-1"}, State: state, Labels: map[string]string{
		engine.LabelProject: project, engine.LabelService: service, engine.LabelOneoff: "False", engine.LabelContainer: "1",
	}}
}
