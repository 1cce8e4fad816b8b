package enginetest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// ExecProgram is what an exec does: it reads its input, writes its output and returns
// its exit code.
type ExecProgram func(x *ExecProcess) int

// ExecProcess is an exec as its program sees it.
type ExecProcess struct {
	ContainerID string
	Cmd         []string
	User        string
	Env         []string
	// Stdin is the attached input, or empty.
	Stdin io.Reader
	// Stdout and Stderr reach the caller.
	Stdout, Stderr io.Writer
	// Killed is closed when the exec's process is ended by engine.KillTreeScript: a
	// program that blocks should return then, as a killed process would.
	Killed <-chan struct{}
}

type execState struct {
	opts        client.ExecCreateOptions
	containerID string
	running     bool
	code        int
	// pid is the process ID a killable exec reports; killed ends it.
	pid    int
	killed chan struct{}
}

// Execs of the engine package's own scripts are played by the fake itself: the shell
// probe succeeds, a killable exec (engine.KillWrapper) reports its PID and runs its
// command, and engine.KillTreeScript ends that exec. Calls name the command itself.
func execKind(cmd []string) string {
	switch {
	case slices.Equal(cmd, engine.ShellProbe):
		return "probe"
	case len(cmd) > 3 && cmd[0] == "sh" && cmd[2] == engine.KillWrapper:
		return "killable"
	case len(cmd) == 5 && cmd[0] == "sh" && cmd[2] == engine.KillTreeScript:
		return "kill"
	}
	return ""
}

// ExecCreate creates an exec in a running container.
func (e *Engine) ExecCreate(_ context.Context, ref string, o client.ExecCreateOptions) (client.ExecCreateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var err error
	switch execKind(o.Cmd) {
	case "probe":
	case "killable":
		err = e.call("exec %s %s", ref, strings.Join(o.Cmd[4:], " "))
	case "kill":
		err = e.call("kill-exec %s %s", ref, o.Cmd[4])
	default:
		err = e.call("exec %s %s", ref, strings.Join(o.Cmd, " "))
	}
	if err != nil {
		return client.ExecCreateResult{}, err
	}
	c := e.find(ref)
	switch {
	case c == nil:
		return client.ExecCreateResult{}, notFound(ref)
	case !c.Running():
		return client.ExecCreateResult{}, notRunning(ref)
	}
	e.seq++
	id := fmt.Sprintf("exec-%d", e.seq)
	e.execs[id] = &execState{opts: o, containerID: c.ID, pid: 1000 + e.seq, killed: make(chan struct{})}
	return client.ExecCreateResult{ID: id}, nil
}

// ExecAttach starts the exec and connects to its streams. Its exit code is known (to
// ExecInspect) before its output ends.
func (e *Engine) ExecAttach(_ context.Context, id string, _ client.ExecAttachOptions) (client.ExecAttachResult, error) {
	e.mu.Lock()
	st, ok := e.execs[id]
	prog := e.Exec
	e.mu.Unlock()
	if !ok {
		return client.ExecAttachResult{}, fmt.Errorf("enginetest: no exec %s", id)
	}
	cl, srv, err := e.sockets.pair()
	if err != nil {
		return client.ExecAttachResult{}, err
	}
	x := &ExecProcess{
		ContainerID: st.containerID, Cmd: st.opts.Cmd, User: st.opts.User, Env: st.opts.Env,
		Stdin: strings.NewReader(""), Stdout: discard{}, Stderr: discard{}, Killed: st.killed,
	}
	if st.opts.AttachStdin {
		x.Stdin = srv
	}
	if st.opts.AttachStdout {
		x.Stdout = frameWriter{w: srv, stream: 1}
	}
	if st.opts.AttachStderr {
		x.Stderr = frameWriter{w: srv, stream: 2}
	}
	e.mu.Lock()
	st.running = true
	e.mu.Unlock()
	kind := execKind(st.opts.Cmd)
	go func() {
		code := 0
		switch kind {
		case "probe":
		case "kill":
			e.killExec(x.Cmd[4])
		case "killable":
			fmt.Fprintf(x.Stderr, "docker-backup-pid %d\n", st.pid)
			x.Cmd = x.Cmd[4:]
			fallthrough
		default:
			if prog != nil {
				code = prog(x)
			}
		}
		e.mu.Lock()
		st.running, st.code = false, code
		e.mu.Unlock()
		endStream(srv)
	}()
	return client.ExecAttachResult{HijackedResponse: client.NewHijackedResponse(cl, "")}, nil
}

// ExecInspect says whether the exec runs, and its exit code.
func (e *Engine) ExecInspect(_ context.Context, id string, _ client.ExecInspectOptions) (client.ExecInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, ok := e.execs[id]
	if !ok {
		return client.ExecInspectResult{}, fmt.Errorf("enginetest: no exec %s", id)
	}
	return client.ExecInspectResult{ID: id, ContainerID: st.containerID, Running: st.running, ExitCode: st.code}, nil
}

// killExec ends the running exec whose process ID is pid, as engine.KillTreeScript does.
func (e *Engine) killExec(pid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.execs {
		if strconv.Itoa(st.pid) == pid && st.running {
			select {
			case <-st.killed:
			default:
				close(st.killed)
			}
		}
	}
}
