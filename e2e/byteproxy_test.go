//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// byteProxy listens on 127.0.0.1 and pipes every TCP connection, byte for byte, to a
// Unix socket, counting the bytes each way. It never parses HTTP: a hijacked connection
// (attach, exec, a helper's stdin and stdout) is just more bytes, so whatever a client
// sends to or gets from an engine behind it is counted, whatever the protocol does.
type byteProxy struct {
	ln     net.Listener
	socket string
	// in counts bytes into the socket (client to engine), out bytes out of it (engine
	// to client).
	in, out atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// newByteProxy starts a proxy to socket on a random port of 127.0.0.1; Cleanup closes it.
func newByteProxy(t testing.TB, socket string) *byteProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for the engine proxy: %v", err)
	}
	p := &byteProxy{ln: ln, socket: socket, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's address, host:port.
func (p *byteProxy) Addr() string { return p.ln.Addr().String() }

// BytesIn is how many bytes clients have sent to the engine since the last Reset.
func (p *byteProxy) BytesIn() int64 { return p.in.Load() }

// BytesOut is how many bytes the engine has sent to clients since the last Reset.
func (p *byteProxy) BytesOut() int64 { return p.out.Load() }

// Open is how many connections the proxy holds now, either side of each counted. Once
// a command has exited and Open is 0, every byte it moved has been counted.
func (p *byteProxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Reset sets both counters to zero, so a test measures one command. Bytes still in
// flight on an open connection are counted after it.
func (p *byteProxy) Reset() {
	p.in.Store(0)
	p.out.Store(0)
}

// isClosed tells whether Close has run.
func (p *byteProxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close stops listening, cuts the open connections and waits for their pipes to end.
func (p *byteProxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.ln.Close()
		for c := range p.conns {
			c.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *byteProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.pipe(c) })
	}
}

// track remembers a connection so Close can cut it; it refuses once closed.
func (p *byteProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *byteProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// pipe copies both ways until both sides have finished sending. A side's end of input
// is passed on as a half-close (CloseWrite), not a close: `docker run -i` and `docker
// exec -i` end the container's stdin that way and then still read its output.
func (p *byteProxy) pipe(client net.Conn) {
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	engine, err := net.Dial("unix", p.socket)
	if err != nil {
		return // the client sees its connection closed, as with a stopped engine
	}
	defer engine.Close()
	if !p.track(engine) {
		return
	}
	defer p.untrack(engine)

	var wg sync.WaitGroup
	wg.Go(func() { p.copy(engine, client, &p.in) })
	p.copy(client, engine, &p.out)
	wg.Wait()
}

// copy moves bytes from src to dst, counting those written, then half-closes dst. An
// error other than the end of input cuts both sides, so the other direction ends too.
func (p *byteProxy) copy(dst, src net.Conn, n *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		r, rerr := src.Read(buf)
		if r > 0 {
			w, werr := dst.Write(buf[:r])
			n.Add(int64(w))
			if werr != nil {
				src.Close()
				dst.Close()
				return
			}
		}
		if errors.Is(rerr, io.EOF) {
			if hc, ok := dst.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
				return
			}
			dst.Close()
			return
		}
		if rerr != nil {
			src.Close()
			dst.Close()
			return
		}
	}
}

// TestRemoteEngineProxyCounts checks the proxy against a Unix echo server that answers
// only once its input has ended: the half-close must get through, and both directions
// are counted to the byte.
func TestRemoteEngineProxyCounts(t *testing.T) {
	t.Parallel()
	socket := filepath.Join(t.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		in, _ := io.ReadAll(c)
		c.Write(bytes.Repeat(in, 3))
	}()

	p := newByteProxy(t, socket)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := bytes.Repeat([]byte("0123456789"), 10_000)
	if _, err := c.Write(sent); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.Repeat(sent, 3)) {
		t.Fatalf("got %d bytes back, want %d: the echo of what was sent, three times", len(got), 3*len(sent))
	}
	p.Close() // waits for the pipe, so the counters are final
	if in, out := p.BytesIn(), p.BytesOut(); in != int64(len(sent)) || out != int64(len(got)) {
		t.Errorf("counted %d bytes in and %d out, want %d and %d", in, out, len(sent), len(got))
	}
}
