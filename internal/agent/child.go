package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Starter starts restic with args as the agent's child.
type Starter func(args []string, rio ResticIO) (*Child, error)

// ResticIO are the streams restic is started with.
type ResticIO struct {
	// Stdout (unless PipeOut) and Stderr receive restic's output.
	Stdout, Stderr io.Writer
	// PipeIn gives restic an input that only the agent ends (Child.Stdin); without it
	// restic has none.
	PipeIn bool
	// PipeOut gives the agent restic's output to read (Child.Stdout).
	PipeOut bool
}

// Child is restic running as the agent's child.
type Child struct {
	// Stdin is restic's input (with PipeIn): closing it ends restic's input, which
	// restic backup --stdin takes for a whole stream and commits.
	Stdin io.WriteCloser
	// Stdout is restic's output (with PipeOut); it ends when restic has exited.
	Stdout io.Reader
	// Stop asks restic to stop (SIGINT, which lets it remove its lock) and kills it if
	// it has not exited within resticGrace; it returns once restic has exited, and
	// reports whether restic still ran (false: it had exited by itself). It never
	// closes Stdin.
	Stop func() bool
	// Wait waits for restic to exit and returns its exit code (128+n for signal n).
	Wait func() int
}

// resticGrace is how long restic has to exit after SIGINT before it is killed: the
// plugin kills the whole helper 10 s after its own SIGINT, and the dump's exec in the
// service's container is ended first.
const resticGrace = 3 * time.Second

// startRestic starts the image's restic with the secret backend settings added to
// environ (EnvFile).
func startRestic(environ, args []string, rio ResticIO) (*Child, error) {
	env, err := withEnvFile(environ, EnvFile)
	if err != nil {
		return nil, err
	}
	path, err := findRestic()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Args[0] = "restic"
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = rio.Stdout, rio.Stderr
	child := &Child{}
	// Pipes of our own, as files: exec.Cmd would close restic's input itself when a
	// reader it copies fails, and an end of input is what restic commits on.
	var theirs []*os.File
	if rio.PipeIn {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("starting restic: %w", err)
		}
		cmd.Stdin, child.Stdin = r, w
		theirs = append(theirs, r)
	}
	if rio.PipeOut {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("starting restic: %w", err)
		}
		cmd.Stdout, child.Stdout = w, r
		theirs = append(theirs, w)
	}
	err = cmd.Start()
	for _, f := range theirs {
		f.Close()
	}
	if err != nil {
		if child.Stdin != nil {
			child.Stdin.Close()
		}
		return nil, fmt.Errorf("starting restic: %w", err)
	}
	done := make(chan struct{})
	code := -1
	go func() {
		err := cmd.Wait()
		code = exitCode(cmd.ProcessState, err)
		close(done)
	}()
	child.Wait = func() int { <-done; return code }
	child.Stop = func() bool {
		select {
		case <-done:
			return false
		default:
		}
		_ = cmd.Process.Signal(os.Interrupt)
		timer := time.NewTimer(resticGrace)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			_ = cmd.Process.Kill()
			<-done
		}
		return true
	}
	return child, nil
}

// exitCode is a finished process's exit code, 128+n when signal n ended it.
func exitCode(st *os.ProcessState, err error) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1
	}
	return st.ExitCode()
}
