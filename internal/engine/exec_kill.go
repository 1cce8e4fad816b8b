package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/moby/moby/client"
)

// An exec the engine cannot end: Docker has no call that stops an exec's process, and a
// command whose output nobody reads any more (the client cancelled, restic gave up)
// blocks on its pipe for ever, holding the database's transaction. So an exec with
// ExecSpec.Kill runs through sh, which prints its PID on stderr and then becomes the
// command (exec "$@": the same PID). When Exec returns before the command has exited, a
// second exec in the same container ends that process and its descendants.

// KillWrapper is the sh script a killable exec's command runs under; its arguments are
// $0 (a name) and the command.
const KillWrapper = `printf 'docker-backup-pid %s\n' "$$" >&2; exec "$@"`

// KillWrapperName is the $0 of KillWrapper, the name sh reports errors under.
const KillWrapperName = "docker-backup-exec"

// ShellProbe is the exec that tells whether a container has sh, so that a command can be
// wrapped by KillWrapper.
var ShellProbe = []string{"sh", "-c", "exit 0"}

// KillTreeScript ends the process $1 and all its descendants: TERM, then KILL to those
// still there after 5 seconds (a zombie, which a PID 1 that does not reap leaves, has
// ended). It reads states and parents from /proc/*/stat (the fields after the command
// name, which may hold spaces and ends at the last ")") and needs only sh, kill and sleep.
const KillTreeScript = `all=$1; pids=$1
while [ -n "$pids" ]; do
  next=
  for s in /proc/[0-9]*/stat; do
    read -r l 2>/dev/null <"$s" || continue
    set -- ${l##*) }
    for p in $pids; do
      if [ "$2" = "$p" ]; then c=${s#/proc/}; next="$next ${c%/stat}"; fi
    done
  done
  all="$all$next"; pids=$next
done
kill -s TERM $all 2>/dev/null
i=0
while [ $i -lt 50 ]; do
  alive=
  for p in $all; do
    read -r l 2>/dev/null <"/proc/$p/stat" || continue
    set -- ${l##*) }
    [ "$1" = Z ] || alive=1
  done
  [ -z "$alive" ] && exit 0
  sleep 0.1; i=$((i+1))
done
kill -s KILL $all 2>/dev/null
exit 0`

// KillTreeName is the $0 of KillTreeScript.
const KillTreeName = "docker-backup-kill"

// pidWait bounds the wait for a killable command's PID line when it is to be ended.
const pidWait = 10 * time.Second

// killDeadline bounds ending a command on a cleanup path: the script's own 5 seconds
// and the engine's round trips.
const killDeadline = 20 * time.Second

// hasShell reports whether the container runs sh: false only when the probe ran and
// said so (126 or 127, the shell's and the runtime's "cannot run"). A probe that could
// not tell (the engine busy, a dropped connection) counts as yes: a command wrapped in
// vain fails with a clear error, one left unwrapped could not be ended.
func hasShell(ctx context.Context, api API, containerID, user string) bool {
	code, err := Exec(ctx, api, containerID, ExecSpec{Cmd: ShellProbe, User: user})
	return err != nil || (code != 126 && code != 127)
}

// killable wraps cmd by KillWrapper.
func killable(cmd []string) []string {
	return append([]string{"sh", "-c", KillWrapper, KillWrapperName}, cmd...)
}

// pidReader takes KillWrapper's first stderr line and passes the rest on.
type pidReader struct {
	w    io.Writer
	line []byte
	done bool
	pid  atomic.Int64
	// known is closed once the first line has been read, PID or not.
	known chan struct{}
}

func (p *pidReader) Write(b []byte) (int, error) {
	if p.done {
		return p.w.Write(b)
	}
	n := len(b)
	i := bytes.IndexByte(b, '\n')
	if i < 0 && len(p.line)+len(b) < 64 {
		p.line = append(p.line, b...)
		return n, nil
	}
	p.done = true
	defer close(p.known)
	if i < 0 {
		// Not our line after all: pass everything on.
		_, err := p.w.Write(append(p.line, b...))
		return n, err
	}
	line := append(p.line, b[:i]...)
	if v, ok := bytes.CutPrefix(line, []byte("docker-backup-pid ")); ok {
		if pid, err := strconv.Atoi(string(v)); err == nil && pid > 0 {
			p.pid.Store(int64(pid))
			_, err := p.w.Write(b[i+1:])
			return n, err
		}
	}
	_, err := p.w.Write(append(line, b[i:]...))
	return n, err
}

// endUnfinished ends a killable exec's process tree if the exec still runs. It runs on
// a cleanup path, so it ignores ctx's cancellation and has its own deadline.
func endUnfinished(ctx context.Context, api API, containerID, execID, user string, pid int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killDeadline)
	defer cancel()
	// Tried again until the exec is seen ended: a kill that did not take (an exec that
	// failed to start) must not pass for one that did.
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		res, err := api.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return errors.Join(last, fmt.Errorf("inspecting exec: %w", err))
		}
		if !res.Running {
			return nil
		}
		code, err := Exec(ctx, api, containerID, ExecSpec{
			Cmd:  []string{"sh", "-c", KillTreeScript, KillTreeName, strconv.Itoa(pid)},
			User: user,
		})
		switch {
		case err != nil:
			last = fmt.Errorf("ending process %d in container %s: %w", pid, ShortID(containerID), err)
		case code != 0:
			last = fmt.Errorf("ending process %d in container %s: exit code %d", pid, ShortID(containerID), code)
		default:
			last = fmt.Errorf("process %d in container %s still runs", pid, ShortID(containerID))
		}
		if err := waitEnded(ctx, api, execID); err == nil {
			return nil
		}
	}
	return last
}

// waitEnded waits up to a second for the exec to be seen ended.
func waitEnded(ctx context.Context, api API, execID string) error {
	for i := 0; i < 20; i++ {
		res, err := api.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return err
		}
		if !res.Running {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("still running")
}
