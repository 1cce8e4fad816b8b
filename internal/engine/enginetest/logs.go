package enginetest

import (
	"bytes"
	"context"
	"io"
	"strconv"

	"github.com/moby/moby/client"
)

// logChunk is one write of a container's program, on stream 1 (stdout) or 2 (stderr).
type logChunk struct {
	stream byte
	data   []byte
}

// logged returns w, which also keeps what is written in c's logs.
func (e *Engine) logged(c *ctr, stream byte, w io.Writer) io.Writer {
	return logWriter{e: e, c: c, stream: stream, w: w}
}

type logWriter struct {
	e      *Engine
	c      *ctr
	stream byte
	w      io.Writer
}

func (l logWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.e.mu.Lock()
		l.c.logs = append(l.c.logs, logChunk{stream: l.stream, data: bytes.Clone(p)})
		l.e.mu.Unlock()
	}
	return l.w.Write(p)
}

// ContainerLogs returns what a created container's program wrote, multiplexed as the
// engine does (raw for a container with a TTY), filtered by ShowStdout and ShowStderr;
// Tail keeps the last chunks written (a number of writes, not of lines). It fails with
// what was set by Fail("logs REF").
func (e *Engine) ContainerLogs(_ context.Context, ref string, o client.ContainerLogsOptions) (client.ContainerLogsResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["logs "+ref]; err != nil {
		return nil, err
	}
	c := e.find(ref)
	if c == nil {
		return nil, notFound(ref)
	}
	var chunks []logChunk
	for _, ch := range c.logs {
		if ch.stream == 1 && o.ShowStdout || ch.stream == 2 && o.ShowStderr {
			chunks = append(chunks, ch)
		}
	}
	if n, err := strconv.Atoi(o.Tail); err == nil && n >= 0 && n < len(chunks) {
		chunks = chunks[len(chunks)-n:]
	}
	var buf bytes.Buffer
	for _, ch := range chunks {
		if c.Config.Tty {
			buf.Write(ch.data)
			continue
		}
		_, _ = frameWriter{w: &buf, stream: ch.stream}.Write(ch.data)
	}
	return io.NopCloser(&buf), nil
}
