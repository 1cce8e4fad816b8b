package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// DumpRelayCommand is the command that restic itself runs in a dump helper (`restic
// backup --stdin-from-command -- docker-backup agent dump-relay DIR`): it copies the
// dump that the agent writes into DIR's FIFO to restic, and exits 0 only when the agent
// has said the dump is whole. restic commits a --stdin-from-command snapshot only
// when its command exits 0, so a dump that failed, was cut off or interrupted, or
// whose agent died, is never committed: no later step has to confirm it (which took
// restic's exclusive lock, and failed whenever anyone else read the repository).
const DumpRelayCommand = "dump-relay"

// Names in a relay's folder.
const (
	relayStream = "stream" // the FIFO the dump crosses
	relayWhole  = "whole"  // written by the agent once the dump is whole, before the stream ends
)

// relay is the agent's side of a dump's way into restic: a private folder with the
// FIFO and, once the dump is whole, the mark.
type relay struct{ dir string }

func newRelay() (*relay, error) {
	dir, err := os.MkdirTemp("", "docker-backup-dump-")
	if err != nil {
		return nil, fmt.Errorf("making the dump's relay: %w", err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, relayStream), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("making the dump's relay: %w", err)
	}
	return &relay{dir: dir}, nil
}

// command is what restic runs: self is this program.
func (r *relay) command(self string) []string {
	return []string{self, Command, DumpRelayCommand, r.dir}
}

// errResticEnded is restic gone before it ran the relay (the repository, a lock…).
var errResticEnded = errors.New("restic ended before it read the dump")

// open waits until the relay has opened the stream, that is until restic holds its
// lock and runs its command, so the dump does not start (holding its transaction)
// while restic waits for the repository. It gives up when restic ends first or ctx
// is done.
func (r *relay) open(ctx context.Context, resticEnded <-chan struct{}) (*os.File, error) {
	path := filepath.Join(r.dir, relayStream)
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- opened{f, err}
	}()
	var why error
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, fmt.Errorf("opening the dump's relay: %w", o.err)
		}
		growPipe(o.f)
		return o.f, nil
	case <-resticEnded:
		why = errResticEnded
	case <-ctx.Done():
		why = fmt.Errorf("%w: before restic read the dump", errInterrupted)
	}
	// A reader of our own lets the pending open return; the relay that restic may still
	// start then finds no writer and the stream ended without its mark.
	if rd, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0); err == nil {
		if o := <-ch; o.f != nil {
			o.f.Close()
		}
		rd.Close()
	}
	return nil, why
}

// markWhole says that the dump is whole: the relay exits 0 at the stream's end.
func (r *relay) markWhole() error {
	if err := os.WriteFile(filepath.Join(r.dir, relayWhole), nil, 0o600); err != nil {
		return fmt.Errorf("marking the dump whole: %w", err)
	}
	return nil
}

func (r *relay) remove() { _ = os.RemoveAll(r.dir) }

// runDumpRelay is `agent dump-relay DIR`, run by restic: it copies the stream to its
// output and fails unless the agent marked the dump whole before the stream ended. A
// signal, or an agent that died (its end of the stream closes with it), is a failure.
func runDumpRelay(ctx context.Context, args []string, env Env) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: dump-relay DIR", errUsage)
	}
	dir := args[0]
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		// Blocking: the agent has opened, or will open, its end (a reader that did not
		// wait would take "no writer yet" for the end of the stream).
		f, err := os.Open(filepath.Join(dir, relayStream))
		ch <- opened{f, err}
	}()
	var in *os.File
	select {
	case o := <-ch:
		if o.err != nil {
			return fmt.Errorf("opening the dump's relay: %w", o.err)
		}
		in = o.f
	case <-ctx.Done():
		return fmt.Errorf("%w: the dump was not read", errInterrupted)
	}
	defer in.Close()
	stop := context.AfterFunc(ctx, func() { in.Close() })
	defer stop()
	_, err := relayCopy(env.Out, in)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: the dump was not read to its end", errInterrupted)
	case err != nil:
		return fmt.Errorf("relaying the dump: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, relayWhole)); errors.Is(err, fs.ErrNotExist) {
		return errors.New("the dump's stream ended before the dump was whole")
	} else if err != nil {
		return fmt.Errorf("relaying the dump: %w", err)
	}
	return nil
}
