package enginetest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
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
}

type execState struct {
	opts        client.ExecCreateOptions
	containerID string
	running     bool
	code        int
}

// ExecCreate creates an exec in a running container.
func (e *Engine) ExecCreate(_ context.Context, ref string, o client.ExecCreateOptions) (client.ExecCreateResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call("exec %s %s", ref, strings.Join(o.Cmd, " ")); err != nil {
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
	e.execs[id] = &execState{opts: o, containerID: c.ID}
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
		Stdin: strings.NewReader(""), Stdout: discard{}, Stderr: discard{},
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
	go func() {
		code := 0
		if prog != nil {
			code = prog(x)
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
