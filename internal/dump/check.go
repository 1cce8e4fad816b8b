package dump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
)

// ErrCutOff ends the message of a dump whose format shows it is not whole.
var ErrCutOff = errors.New("it was cut off")

// ErrNotFormat ends the message of a dump that does not begin as its format does.
var ErrNotFormat = errors.New("it is not what the tool writes")

// Check is the format's own proof that a dump is whole (composeext.DumpCheck, as it
// reaches the helper): the stream is compared with it, and a dump cut off before its
// end is refused even when the dump command exited 0.
type Check struct {
	// Tool names the program that writes the dump, for messages.
	Tool string `json:"tool"`
	// Head, if set, is what the dump begins with.
	Head string `json:"head,omitempty"`
	// End, if set, begins the dump's last line; blank lines, lines of "--" comments and
	// psql's \unrestrict after it are allowed.
	End string `json:"end,omitempty"`
	// RDB asks for a Redis RDB file's own end: the EOF opcode 0xFF and the CRC-64 of
	// everything before the checksum.
	RDB bool `json:"rdb,omitempty"`
}

// dumpTailMax is how much of the stream's end is kept: the end markers and the few
// comment lines after them fit many times over.
const dumpTailMax = 4 << 10

// rdbTrailer is the end of an RDB file: the EOF opcode and the 8-byte checksum.
const rdbTrailer = 9

// rdbEOFMark is the length of the mark that ends a diskless replication stream: 40
// random hex digits that redis-cli --rdb - writes to stdout after the file (it removes
// them only from a file it can truncate). Redis and redis-check-rdb stop reading at the
// checksum, so the file loads as it is.
const rdbEOFMark = 40

// redisCRC is the CRC-64 of Redis's RDB files (Jones polynomial, reflected, as Go's
// tables take it); Redis starts it at 0 and does not invert it at the end.
var redisCRC = crc64.MakeTable(0x95ac9329ac4bc9b5)

// Checker passes a dump's stream through to w and keeps what its DumpCheck needs:
// the first bytes, the last few KiB and, for RDB, a running checksum. Nothing is held
// whole, so a dump of any size streams into restic as before. A nil check passes the
// stream through and checks nothing.
type Checker struct {
	w     io.Writer
	check *Check
	head  []byte
	tail  []byte
	// crc is the inverted RDB checksum of every byte but the last rdbTrailer+rdbEOFMark,
	// which wait in pending until more arrives.
	crc     uint64
	pending []byte
}

// NewChecker returns a Checker of check that writes to w.
func NewChecker(check *Check, w io.Writer) *Checker {
	return &Checker{w: w, check: check, crc: ^uint64(0)}
}

func (c *Checker) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if c.check != nil {
		c.keep(p[:n])
	}
	return n, err
}

// keep records the bytes that went through.
func (c *Checker) keep(p []byte) {
	if want := len(c.check.Head) - len(c.head); want > 0 {
		c.head = append(c.head, p[:min(want, len(p))]...)
	}
	c.tail = append(c.tail, p...)
	if over := len(c.tail) - dumpTailMax; over > 0 {
		c.tail = append(c.tail[:0], c.tail[over:]...)
	}
	if c.check.RDB {
		c.pending = append(c.pending, p...)
		if over := len(c.pending) - rdbTrailer - rdbEOFMark; over > 0 {
			c.crc = crc64.Update(c.crc, redisCRC, c.pending[:over])
			c.pending = append(c.pending[:0], c.pending[over:]...)
		}
	}
}

// Err says whether the stream that went through is whole by its format's own marks;
// call it once the dump command has exited 0.
func (c *Checker) Err() error {
	k := c.check
	if k == nil {
		return nil
	}
	if k.Head != "" && string(c.head) != k.Head {
		return fmt.Errorf("the dump does not begin with %s's header %q: %w", k.Tool, k.Head, ErrNotFormat)
	}
	if k.End != "" && !endsWithMarker(c.tail, k.End) {
		return fmt.Errorf("the dump ended without %s's end marker %q: %w", k.Tool, k.End, ErrCutOff)
	}
	if k.RDB {
		if err := c.rdbEnd(); err != nil {
			return fmt.Errorf("the dump ended without %s's end (%w): %w", k.Tool, err, ErrCutOff)
		}
	}
	return nil
}

// rdbEnd checks the RDB trailer: the EOF opcode, then the little-endian CRC-64 of every
// byte before the checksum, at the end of the stream or before redis-cli's EOF mark. A
// checksum of 0 is what Redis writes with rdbchecksum no.
func (c *Checker) rdbEnd() error {
	p := c.pending
	if n := len(p) - rdbEOFMark; n >= rdbTrailer && isHex(p[n:]) && c.rdbTrailerAt(n-rdbTrailer) {
		return nil
	}
	if n := len(p) - rdbTrailer; n >= 0 && c.rdbTrailerAt(n) {
		return nil
	}
	return errors.New("no EOF opcode 0xFF followed by the checksum of the data")
}

// rdbTrailerAt reports whether the trailer begins at pending[i] and its checksum is
// that of the stream before it.
func (c *Checker) rdbTrailerAt(i int) bool {
	p := c.pending[i:]
	if p[0] != 0xff {
		return false
	}
	stored := binary.LittleEndian.Uint64(p[1:rdbTrailer])
	return stored == 0 || stored == ^crc64.Update(c.crc, redisCRC, c.pending[:i+1])
}

// isHex reports whether b is lowercase hex digits only, as Redis's EOF mark is.
func isHex(b []byte) bool {
	for _, x := range b {
		if !('0' <= x && x <= '9' || 'a' <= x && x <= 'f') {
			return false
		}
	}
	return true
}

// endsWithMarker reports whether the last line of tail that is not blank, a "--"
// comment or psql's \unrestrict begins with marker. Tools write their marker as the
// last thing they do, so a stream cut off anywhere before it lacks it.
func endsWithMarker(tail []byte, marker string) bool {
	lines := bytes.Split(tail, []byte("\n"))
	// The first line may begin mid-line when the tail was trimmed: never trust it alone.
	for i := len(lines) - 1; i > 0 || (i == 0 && len(tail) < dumpTailMax); i-- {
		l := bytes.TrimRight(lines[i], " \t\r")
		switch {
		case bytes.HasPrefix(l, []byte(marker)):
			return true
		case len(l) == 0, bytes.HasPrefix(l, []byte("--")), bytes.HasPrefix(l, []byte(`\unrestrict `)):
			continue
		default:
			return false
		}
	}
	return false
}
