package enginetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"

	"github.com/docker-backup/docker-backup/agent"
	"github.com/docker-backup/docker-backup/engine"
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
	}
	// The spec file's path and restic's arguments follow the command (the helper's
	// command is restic's arguments).
	args := append(slices.Clone(p.Config.Entrypoint[2:]), p.Config.Cmd...)
	return agent.Run(context.Background(), args, env)
}

// playRestic runs rst as restic would run as the agent's child: Stop cuts its input
// and output with an error, as a killed restic sees them (never an end of input).
func playRestic(rst *Restic, p *Process, args []string, rio agent.ResticIO) *agent.Child {
	child := &agent.Child{}
	proc := &Process{Container: p.Container, Stdin: eofReader{}, Stdout: rio.Stdout, Stderr: rio.Stderr}
	proc.Config.Cmd = slices.Clone(args)
	proc.Config.OpenStdin = rio.PipeIn
	var inR, outR *io.PipeReader
	var outW *io.PipeWriter
	if rio.PipeIn {
		var inW *io.PipeWriter
		inR, inW = io.Pipe()
		proc.Stdin, child.Stdin = inR, inW
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
