package engine

import "strings"

// Tail keeps the last bytes written to it: the end of a command's stderr, for error
// messages, without holding a long output in memory. Its zero value keeps 4 KiB.
type Tail struct {
	// Max is how many bytes it keeps.
	Max int
	buf []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	limit := t.Max
	if limit <= 0 {
		limit = 4 << 10
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - limit; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// String returns what it kept.
func (t *Tail) String() string { return string(t.buf) }

// Suffix is ": <last lines, joined by |>" for an error message, or "" when nothing was written.
func (t *Tail) Suffix() string {
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return ": " + strings.Join(lines, " | ")
}
