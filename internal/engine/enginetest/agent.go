package enginetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// IsAgentDump reports whether a helper runs one of the agent's commands that use the
// engine's socket (agent dump, agent dump-restore, agent engine-check) rather than
// restic alone.
func IsAgentDump(p *Process) bool {
	ep := p.Config.Entrypoint
	return len(ep) >= 3 && ep[1] == agent.Command && (ep[2] == agent.DumpCommand || ep[2] == agent.DumpRestoreCommand || ep[2] == agent.EngineCheckCommand)
}

// errResticStopped is what a played restic reads and writes once the agent has stopped it.
var errResticStopped = errors.New("enginetest: restic was stopped")

// Agent plays a dump helper: the agent's own code (agent.Run) runs its entrypoint's
// command against e, as it would against the engine through the mounted socket, with
// the files copied into the helper, and restic played by rst. Its socket is e, or
// e.Socket when set (another engine's socket). Use it from
// Engine.Program for helpers that IsAgentDump says are the agent's.
func (e *Engine) Agent(rst *Restic, p *Process) int {
	env := agent.Env{
		Streams: agent.Streams{In: p.Stdin, Out: p.Stdout, Err: p.Stderr},
		Environ: slices.Clone(p.Config.Env),
		Connect: func() (engine.API, error) {
			if e.Socket != nil {
				return e.Socket, nil
			}
			return e, nil
		},
		ReadFile: func(name string) ([]byte, error) {
			data, ok := p.Files[name]
			if !ok {
				return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
			}
			return []byte(data), nil
		},
		StartRestic: func(args []string, rio agent.ResticIO) (*agent.Child, error) {
			return playRestic(rst, p, args, rio), nil
		},
		Self: "docker-backup",
	}
	// The spec file's path and restic's arguments follow the command (the helper's
	// command is restic's arguments).
	args := append(slices.Clone(p.Config.Entrypoint[2:]), p.Config.Cmd...)
	return agent.Run(context.Background(), args, env)
}

// playRestic runs rst as restic would run as the agent's child: Stop cuts its input
// and output with an error, as a killed restic sees them (never an end of input).
// With --stdin-from-command it runs its command (the agent's relay) as restic does, and
// reads that command's output as its input: an input that ends in an error when the
// command exits non-zero (restic then commits nothing).
func playRestic(rst *Restic, p *Process, args []string, rio agent.ResticIO) *agent.Child {
	child := &agent.Child{}
	proc := &Process{Container: p.Container, Stdin: eofReader{}, Stdout: rio.Stdout, Stderr: rio.Stderr}
	proc.Config.Cmd = slices.Clone(args)
	proc.Config.OpenStdin = rio.PipeIn
	var inR, outR *io.PipeReader
	var outW *io.PipeWriter
	stopCommand := func() {}
	if rio.PipeIn {
		var inW *io.PipeWriter
		inR, inW = io.Pipe()
		proc.Stdin, child.Stdin = inR, inW
	}
	if cmd, ok := stdinCommand(args); ok {
		c := &command{cmd: cmd, stderr: rio.Stderr}
		proc.Stdin, proc.Config.OpenStdin, stopCommand = c, true, c.stop
	}
	if rio.PipeOut {
		outR, outW = io.Pipe()
		proc.Stdout, child.Stdout = outW, outR
	}
	if proc.Stdout == nil {
		proc.Stdout = discard{}
	}
	done := make(chan struct{})
	var mu sync.Mutex
	code, stopped := 0, false
	go func() {
		c := rst.Program(proc)
		mu.Lock()
		if !stopped {
			code = c
		}
		mu.Unlock()
		if outW != nil {
			outW.Close()
		}
		close(done)
	}()
	child.Wait = func() int { <-done; mu.Lock(); defer mu.Unlock(); return code }
	child.Stop = func() bool {
		select {
		case <-done:
			return false
		default:
		}
		mu.Lock()
		stopped, code = true, 130
		mu.Unlock()
		// restic's context ends its command (exec.CommandContext: killed).
		stopCommand()
		if inR != nil {
			inR.CloseWithError(errResticStopped)
		}
		if outR != nil {
			outR.CloseWithError(errResticStopped)
		}
		<-done
		return true
	}
	return child
}

// eofReader is an input that has ended: restic started without one.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// stdinCommand is the command of restic backup --stdin-from-command: what follows "--".
func stdinCommand(args []string) ([]string, bool) {
	if !slices.Contains(args, "--stdin-from-command") {
		return nil, false
	}
	i := slices.Index(args, "--")
	if i < 0 || i == len(args)-1 {
		return nil, false
	}
	return args[i+1:], true
}

// command is restic's command, started when restic first reads its input (once it
// holds its lock: see Restic.Early), run with the agent's own code: it must be the
// agent's (docker-backup agent …).
type command struct {
	cmd     []string
	stderr  io.Writer
	mu      sync.Mutex
	out     *io.PipeReader
	cancel  context.CancelFunc
	stopped bool
}

func (c *command) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return 0, errResticStopped
	}
	if c.out == nil {
		c.start()
	}
	out := c.out
	c.mu.Unlock()
	return out.Read(p)
}

func (c *command) start() {
	r, w := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	c.out, c.cancel = r, cancel
	if len(c.cmd) < 2 || c.cmd[1] != agent.Command {
		w.CloseWithError(fmt.Errorf("enginetest: restic's command %q is not the agent's", c.cmd))
		return
	}
	go func() {
		code := agent.Run(ctx, c.cmd[2:], agent.Env{Streams: agent.Streams{Out: w, Err: c.stderr}})
		if code != 0 {
			// restic: "command failed: exit status N", a fatal error: no snapshot.
			w.CloseWithError(fmt.Errorf("command failed: exit status %d", code))
			return
		}
		w.Close()
	}()
}

// stop ends the command as restic's cancelled context does (exec.CommandContext).
func (c *command) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.out != nil {
		c.cancel()
		c.out.CloseWithError(errResticStopped)
	}
}
