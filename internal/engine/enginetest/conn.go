package enginetest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// sockets makes connected pairs of Unix sockets: the client's end is what the engine's
// hijacked attach connection is to the caller, the server's end the container's side.
// Unix sockets support half-close (CloseWrite) and deadlines, as the engine's
// connection does, which a net.Pipe does not.
type sockets struct {
	mu    sync.Mutex
	dir   string
	ln    net.Listener
	conns []net.Conn
}

// pair returns a new connected pair.
func (s *sockets) pair() (client, server net.Conn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		// A short path of its own: socket paths are limited to about 100 bytes.
		s.dir, err = os.MkdirTemp("", "enginetest")
		if err != nil {
			return nil, nil, err
		}
		s.ln, err = net.Listen("unix", filepath.Join(s.dir, "s"))
		if err != nil {
			return nil, nil, err
		}
	}
	client, err = net.Dial("unix", s.ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	server, err = s.ln.Accept()
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	s.conns = append(s.conns, client, server)
	return client, server, nil
}

// close closes every connection made and the listener.
func (s *sockets) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	if s.ln != nil {
		s.ln.Close()
		os.RemoveAll(s.dir)
	}
}

// endStream ends the container's side of a connection the way a process that exits
// does: its output ends (the caller reads EOF), and input still arriving is discarded
// until the caller closes its end. Closing outright would make the caller read a
// connection reset instead of the end of the output when input was left unread.
func endStream(server net.Conn) {
	if cw, ok := server.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	go func() {
		_, _ = io.Copy(io.Discard, server)
		server.Close()
	}()
}

// frameWriter writes the engine's multiplexed stream: each write is one frame of an
// 8-byte header (stream, 0, 0, 0, big-endian length) and the payload, in one write so
// frames of stdout and stderr never interleave.
type frameWriter struct {
	w      io.Writer
	stream byte
}

func (f frameWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	buf := make([]byte, 8+len(p))
	buf[0] = f.stream
	binary.BigEndian.PutUint32(buf[4:], uint32(len(p)))
	copy(buf[8:], p)
	if _, err := f.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// errKilled is what a killed process's input reads fail with.
var errKilled = errors.New("enginetest: the container was killed")

// input is a process's standard input: the server's end of the attach connection.
// Once the container is killed, reads fail (never a clean end of input).
type input struct {
	conn   net.Conn
	killed func() bool
}

func (in *input) Read(p []byte) (int, error) {
	n, err := in.conn.Read(p)
	if in.killed() {
		return n, fmt.Errorf("%w (%v)", errKilled, err)
	}
	return n, err
}
