package helper

import (
	"bytes"
	"io"
)

// lineFilter passes to w the whole lines that keep keeps, each with its newline; a
// line not ended yet waits for its end (or flush).
type lineFilter struct {
	w    io.Writer
	keep func(line []byte) bool
	buf  []byte
}

func (f *lineFilter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.buf[:i+1]
		if f.keep(line) {
			if _, err := f.w.Write(line); err != nil {
				return len(p), err
			}
		}
		f.buf = f.buf[i+1:]
	}
}

// flush passes on the last line, if it has no newline.
func (f *lineFilter) flush() {
	if len(f.buf) > 0 && f.keep(f.buf) {
		_, _ = f.w.Write(f.buf)
	}
	f.buf = nil
}

// isProgress tells restic's JSON progress lines (message_type status).
func isProgress(line []byte) bool {
	return bytes.Contains(line, []byte(`"message_type":"status"`))
}
