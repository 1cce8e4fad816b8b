//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// benchSeed makes every run generate the same files, so results compare across runs.
const benchSeed = 20260304

// benchFile is one generated file; random is the share of its bytes that is
// incompressible (0 text, 1 random bytes, between: 1 MiB segments of either).
type benchFile struct {
	rel    string
	size   int64
	random float64
}

// dataGen generates a volume's content deterministically from a seed.
type dataGen struct {
	rng   *rand.Rand
	bytes *rand.ChaCha8
	words [][]byte
}

func newDataGen(seed uint64) *dataGen {
	g := &dataGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	var key [32]byte
	for i := range key {
		key[i] = byte(g.rng.Uint32())
	}
	g.bytes = rand.NewChaCha8(key)
	// A vocabulary of 4096 made-up words: text of it compresses about as well as
	// logs or source code do (gzip ~2.5×), not as well as a repeated pattern.
	for range 4096 {
		w := make([]byte, 2+g.rng.IntN(9))
		for i := range w {
			w[i] = 'a' + byte(g.rng.IntN(26))
		}
		g.words = append(g.words, w)
	}
	return g
}

// plan lays out total bytes as many small files, some medium ones and a few large ones:
// 15 % of the bytes in 1–64 KiB files (mostly text), 35 % in 128 KiB–8 MiB files (mostly
// binary), the rest in files of total/16–total/6 made of text and random segments. About
// half of all bytes are incompressible.
func (g *dataGen) plan(total int64) []benchFile {
	var files []benchFile
	var used int64
	add := func(budget int64, next func(i int) benchFile) {
		end := used + budget
		for i := 0; used < end; i++ {
			f := next(i)
			f.size = min(f.size, end-used)
			files = append(files, f)
			used += f.size
		}
	}
	add(total*15/100, func(i int) benchFile {
		return benchFile{rel: fmt.Sprintf("docs/d%03d/f%05d", i/100, i), size: g.logUniform(1<<10, 64<<10), random: g.coin(0.3)}
	})
	add(total*35/100, func(i int) benchFile {
		return benchFile{rel: fmt.Sprintf("media/m%02d/m%04d", i/50, i), size: g.logUniform(128<<10, 8<<20), random: g.coin(0.6)}
	})
	add(total-used, func(i int) benchFile {
		return benchFile{rel: fmt.Sprintf("blobs/b%02d", i), size: total/16 + g.rng.Int64N(total/6-total/16+1), random: 0.5}
	})
	return files
}

func (g *dataGen) logUniform(lo, hi int64) int64 {
	return int64(math.Exp(math.Log(float64(lo)) + g.rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))))
}

func (g *dataGen) coin(p float64) float64 {
	if g.rng.Float64() < p {
		return 1
	}
	return 0
}

// write creates the files under dir.
func (g *dataGen) write(dir string, files []benchFile) error {
	for _, f := range files {
		path := filepath.Join(dir, f.rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		out, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(out, 256<<10)
		err = g.content(w, f.size, f.random)
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// content writes n bytes: random bytes, text, or 1 MiB segments of either.
func (g *dataGen) content(w io.Writer, n int64, random float64) error {
	const segment = 1 << 20
	for n > 0 {
		seg := min(n, segment)
		var err error
		if random == 1 || random > 0 && random < 1 && g.rng.Float64() < random {
			_, err = io.CopyN(w, g.bytes, seg)
		} else {
			err = g.text(w, seg)
		}
		if err != nil {
			return err
		}
		n -= seg
	}
	return nil
}

// text writes n bytes of words, spaces and line breaks.
func (g *dataGen) text(w io.Writer, n int64) error {
	line := make([]byte, 0, 160)
	for n > 0 {
		line = line[:0]
		for range 8 + g.rng.IntN(8) {
			line = append(append(line, g.words[g.rng.IntN(len(g.words))]...), ' ')
		}
		line[len(line)-1] = '\n'
		chunk := line[:min(int64(len(line)), n)]
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		n -= int64(len(chunk))
	}
	return nil
}

// change modifies share of the files under dir, chosen at random: a small file (up to
// 64 KiB) is rewritten whole, a larger one gets 4 KiB overwritten at a random offset,
// as an edited document or a database page would. It returns the changed paths.
func (g *dataGen) change(dir string, files []benchFile, share float64) ([]string, error) {
	n := max(1, int(math.Round(float64(len(files))*share)))
	var changed []string
	for _, i := range g.rng.Perm(len(files))[:n] {
		f := files[i]
		path := filepath.Join(dir, f.rel)
		out, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		if f.size <= 64<<10 {
			err = g.content(out, f.size, f.random)
		} else {
			_, err = out.Seek(g.rng.Int64N(f.size-4<<10), io.SeekStart)
			if err == nil {
				_, err = io.CopyN(out, g.bytes, 4<<10)
			}
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("changing %s: %w", path, err)
		}
		changed = append(changed, f.rel)
	}
	return changed, nil
}

// benchSize reads a size from the environment ("64MiB", "1GiB", "500MB", bytes), or def.
func benchSize(b *testing.B, name string, def int64) int64 {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := parseSize(s)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	s = strings.TrimSpace(s)
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("want a positive size such as 64MiB, 1GiB or 500MB")
	}
	return int64(v * mult), nil
}

// humanSize formats bytes in binary units.
func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
