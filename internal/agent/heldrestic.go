package agent

import (
	"context"
	"io"
)

// HeldResticCommand runs restic as the agent's child for as long as the agent's input
// is held open: the run's host runs its restic commands so (run/host.go). An exec's
// process outlives the connection of whoever started it, so without this an
// interrupted `restic backup` would go on reading a service that is running again and
// commit its snapshot.
const HeldResticCommand = "restic-held"

// heldRestic runs restic with args and ends it (SIGINT: it removes its lock and
// commits nothing) when the agent's input ends before restic has exited: the plugin
// closes it when its command is cancelled, the engine when the plugin dies. A signal
// to the agent ends restic the same way. It exits with restic's exit code.
func heldRestic(ctx context.Context, args []string, env Env) error {
	child, err := env.StartRestic(args, ResticIO{Stdout: env.Out, Stderr: env.Err})
	if err != nil {
		return err
	}
	released := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, env.In)
		close(released)
	}()
	exited := make(chan int, 1)
	go func() { exited <- child.Wait() }()
	select {
	case code := <-exited:
		return resticExit(code)
	case <-released:
	case <-ctx.Done():
	}
	child.Stop()
	return resticExit(<-exited)
}

// resticExit is how the agent ends with restic's exit code.
func resticExit(code int) error {
	if code == 0 {
		return nil
	}
	return exitStatus(code)
}
