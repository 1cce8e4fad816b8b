package dump

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Names is the line in which a dump-restore helper reports the database names its dump
// named (Spec.ReportNames).
type Names struct {
	Databases []string `json:"databases"`
}

// Marshal is the report as one line, newline included.
func (n Names) Marshal() []byte {
	b, _ := json.Marshal(n) // a slice of strings always marshals
	return append(b, '\n')
}

// ParseNames reads a helper's report from its standard output: the last line that is one.
func ParseNames(out []byte) (Names, error) {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var n Names
		if json.Unmarshal(lines[i], &n) == nil && n.Databases != nil {
			return n, nil
		}
	}
	return Names{}, fmt.Errorf("the dump restore reported no database names")
}

// nameLineMax is how much of a line the scanner keeps: the statements that name a
// database name it near their start (PostgreSQL's and MySQL's names are at most 64
// characters), so the rest of a long line (a row of data) is never held.
const nameLineMax = 4 << 10

// nameLineTail is how much of a long line's end is kept, to see "FROM stdin;".
const nameLineTail = 16

// namesMax bounds how many names are collected; a dump naming more is checked on these.
const namesMax = 1024

// NameScanner passes a dump's stream through to w and collects the names of the
// databases it creates or switches to, in order of first appearance, for the restore
// drill's check: pg_dumpall's `\connect NAME` and `CREATE DATABASE NAME` (bare or
// "quoted", and the `\connect -reuse-previous=on "dbname='…'"` form of unusual names),
// mysqldump's and mariadb-dump's CREATE DATABASE … `NAME` and USE `NAME`.
// Rows of a PostgreSQL COPY block are data, not statements, and are skipped. Memory is
// bounded: the first few KiB of each line, whatever its length, and the names.
type NameScanner struct {
	w    io.Writer
	line []byte
	// tail is the end of a line longer than nameLineMax.
	tail   []byte
	long   bool
	inCopy bool
	names  []string
	seen   map[string]bool
}

// NewNameScanner returns a NameScanner that writes to w.
func NewNameScanner(w io.Writer) *NameScanner {
	return &NameScanner{w: w, seen: map[string]bool{}}
}

// Write passes p on to w and scans what w took.
func (s *NameScanner) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.scan(p[:n])
	return n, err
}

// Names are the database names seen so far, a line without its newline included.
func (s *NameScanner) Names() []string {
	names := append([]string(nil), s.names...)
	if len(s.line) > 0 && !s.inCopy {
		if name, ok := nameOf(s.line); ok && !s.seen[name] && len(names) < namesMax {
			names = append(names, name)
		}
	}
	return names
}

// scan splits p into lines and keeps the start of each.
func (s *NameScanner) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		s.keep(part)
		if i < 0 {
			return
		}
		s.endLine()
		p = p[i+1:]
	}
}

// keep adds part of the current line: its start up to nameLineMax, and its end.
func (s *NameScanner) keep(part []byte) {
	if room := nameLineMax - len(s.line); room > 0 {
		k := min(room, len(part))
		s.line = append(s.line, part[:k]...)
		part = part[k:]
	}
	if len(part) == 0 {
		return
	}
	s.long = true
	s.tail = append(s.tail, part...)
	if over := len(s.tail) - nameLineTail; over > 0 {
		s.tail = append(s.tail[:0], s.tail[over:]...)
	}
}

// endLine reads the line that just ended.
func (s *NameScanner) endLine() {
	line := bytes.TrimSuffix(s.line, []byte("\r"))
	end := line
	if s.long {
		end = bytes.TrimSuffix(s.tail, []byte("\r"))
	}
	switch {
	case s.inCopy:
		s.inCopy = !bytes.Equal(line, []byte(`\.`)) || s.long
	case bytes.HasPrefix(line, []byte("COPY ")) && bytes.HasSuffix(end, []byte(" FROM stdin;")):
		s.inCopy = true
	default:
		if name, ok := nameOf(line); ok && !s.seen[name] && len(s.names) < namesMax {
			s.seen[name] = true
			s.names = append(s.names, name)
		}
	}
	s.line, s.tail, s.long = s.line[:0], s.tail[:0], false
}

// nameOf is the database a statement line names, if it names one. Keywords are matched
// as the tools write them, in capitals: a line of a function's body is less likely to
// pass for a statement.
func nameOf(line []byte) (string, bool) {
	l := string(line)
	switch {
	case strings.HasPrefix(l, `\connect `):
		return connectName(l[len(`\connect `):])
	case strings.HasPrefix(l, "CREATE DATABASE "):
		rest := skipSpaces(l[len("CREATE DATABASE "):])
		for _, opt := range []string{"/*!32312 IF NOT EXISTS*/", "IF NOT EXISTS"} {
			if strings.HasPrefix(rest, opt) {
				rest = skipSpaces(rest[len(opt):])
			}
		}
		return identifier(rest)
	case strings.HasPrefix(l, "USE "):
		return identifier(skipSpaces(l[len("USE "):]))
	}
	return "", false
}

// connectName reads psql's \connect argument: a name as pg_dump's fmtId writes it, or
// -reuse-previous=on and a connection string "dbname=VALUE" quoted the same way.
func connectName(rest string) (string, bool) {
	rest = skipSpaces(rest)
	const reuse = "-reuse-previous=on "
	if !strings.HasPrefix(rest, reuse) {
		name, ok := identifier(rest)
		return name, ok && name != "-"
	}
	conn, ok := identifier(skipSpaces(rest[len(reuse):]))
	v, found := strings.CutPrefix(conn, "dbname=")
	if !ok || !found {
		return "", false
	}
	if len(v) == 0 || v[0] != '\'' {
		return v, v != ""
	}
	// A quoted value: backslash escapes the next character, a quote ends it.
	var b []byte
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			b = append(b, v[i])
		case c == '\'':
			return string(b), len(b) > 0
		default:
			b = append(b, c)
		}
	}
	return "", false
}

// identifier reads a name at the start of s: `backquoted` (MySQL) or "double-quoted"
// (PostgreSQL), a doubled quote standing for one, or bare up to a space, ';' or '('.
func identifier(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	if q := s[0]; q == '`' || q == '"' {
		var b []byte
		for i := 1; i < len(s); i++ {
			if s[i] != q {
				b = append(b, s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == q {
				b = append(b, q)
				i++
				continue
			}
			return string(b), len(b) > 0
		}
		return "", false // cut off before its closing quote
	}
	end := len(s)
	if i := strings.IndexAny(s, " \t;("); i >= 0 {
		end = i
	}
	return s[:end], end > 0
}

// skipSpaces drops leading spaces and tabs.
func skipSpaces(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}
