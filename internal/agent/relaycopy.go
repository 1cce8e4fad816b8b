package agent

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// relayPipeSize is the buffer of the dump's pipes (the relay's FIFO, restic's input)
// and of each move between them: 1 MiB, the most an unprivileged process may ask for
// (/proc/sys/fs/pipe-max-size), against the kernel's 64 KiB. With 64 KiB, the exec
// stream, the relay and restic, on two cores, wake one another every 64 KiB.
const relayPipeSize = 1 << 20

// growPipe gives the pipe or FIFO that f is an end of a buffer of relayPipeSize; a
// kernel or a limit that refuses leaves it as it was (the stream is only slower).
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, relayPipeSize) })
}

// relayCopy copies in (the relay's FIFO) to out (restic's input) until in ends. When
// out is a pipe, splice(2) moves the pages from one pipe to the other, and the dump
// crosses this process without a copy; else (not a file, or a kind of file splice
// refuses) it is copied through a buffer of relayPipeSize. Closing in ends it.
func relayCopy(out io.Writer, in *os.File) (int64, error) {
	if f, ok := out.(*os.File); ok {
		growPipe(f)
		n, err := splicePipes(f, in)
		if !errors.Is(err, errNoSplice) {
			return n, err
		}
	}
	return io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, relayPipeSize))
}

// errNoSplice is splice(2) refused before anything moved: out is no pipe, or the
// kernel cannot splice it.
var errNoSplice = errors.New("splice not supported")

// splicePipes moves in to out with splice(2) until in ends. in is read through Go's
// poller (closing it ends a wait for data); when out is full it waits for room in
// short polls, so that closing in still ends it soon. Go's poller is edge-triggered:
// it waits only when in has no data.
func splicePipes(out, in *os.File) (int64, error) {
	inRC, err := in.SyscallConn()
	if err != nil {
		return 0, errNoSplice
	}
	outRC, err := out.SyscallConn()
	if err != nil {
		return 0, errNoSplice
	}
	var outFD int
	if err := outRC.Control(func(fd uintptr) { outFD = int(fd) }); err != nil {
		return 0, errNoSplice
	}
	var total int64
	for {
		var n int64
		var serr error
		err := inRC.Read(func(fd uintptr) bool {
			n, serr = unix.Splice(int(fd), nil, outFD, nil, relayPipeSize, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			if serr != unix.EAGAIN {
				return true
			}
			if !ready(int(fd), unix.POLLIN, 0) {
				return false // in has no data: the poller waits for some
			}
			// out is full: wait for room a little, and the loop tries again (the
			// poller would wait for more data, which a writer blocked on a full in
			// never sends).
			ready(outFD, unix.POLLOUT, 100)
			return true
		})
		if serr == unix.EAGAIN && err == nil {
			continue
		}
		switch {
		case err != nil:
			return total, fmt.Errorf("reading the dump's relay: %w", err)
		case serr == unix.EINVAL && total == 0:
			return 0, errNoSplice
		case serr != nil:
			return total, fmt.Errorf("moving the dump into restic: %w", serr)
		case n == 0:
			return total, nil
		}
		total += n
	}
}

// ready reports whether fd is ready for events, waiting up to ms milliseconds.
func ready(fd int, events int16, ms int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	n, err := unix.Poll(fds, ms)
	return err == nil && n > 0
}
