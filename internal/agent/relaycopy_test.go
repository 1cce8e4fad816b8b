package agent

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// relayed pipes data through relayCopy into out's pipe (or into out itself when it is
// not a file) and returns what came out the other end.
func relayed(t testing.TB, data []byte, toPipe bool) []byte {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for p := data; len(p) > 0; {
			n := min(len(p), 32<<10)
			if _, err := inW.Write(p[:n]); err != nil {
				break
			}
			p = p[n:]
		}
		inW.Close()
	}()
	defer inR.Close()
	if !toPipe {
		var out bytes.Buffer
		if _, err := relayCopy(&out, inR); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(outR)
		got <- b
	}()
	n, err := relayCopy(outW, inR)
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) {
		t.Errorf("relayCopy said %d bytes, want %d", n, len(data))
	}
	return <-got
}

// The relay passes the dump on byte for byte, into a pipe (splice) as into anything else.
func TestRelayCopyIsFaithful(t *testing.T) {
	data := make([]byte, 5<<20+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, toPipe := range []bool{true, false} {
		if got := relayed(t, data, toPipe); sha256.Sum256(got) != sha256.Sum256(data) {
			t.Errorf("to a pipe %v: %d bytes came out, not the %d that went in", toPipe, len(got), len(data))
		}
	}
}

// Closing the relay's input ends a relay that waits for data (a signal does that).
func TestRelayCopyEndsWhenItsInputIsClosed(t *testing.T) {
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	defer outW.Close()
	done := make(chan error)
	go func() {
		_, err := relayCopy(outW, inR)
		done <- err
	}()
	if _, err := inW.WriteString("CREATE TABLE t;\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := outR.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "CREATE") {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	inR.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a closed input ended the relay without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the relay still waits after its input was closed")
	}
}

// BenchmarkRelayCopy is the relay's hop, FIFO to restic's input, for 64 MiB written in
// the exec stream's 32 KiB frames and read in 64 KiB: relayCopy (splice, 1 MiB pipes)
// against io.Copy (the relay before, 32 KiB through user space, 64 KiB pipes).
func BenchmarkRelayCopy(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	for _, bc := range []struct {
		name string
		copy func(io.Writer, *os.File) (int64, error)
	}{
		{"splice", relayCopy},
		{"io.Copy", func(w io.Writer, r *os.File) (int64, error) { return io.Copy(w, r) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for range b.N {
				inR, inW, _ := os.Pipe()
				outR, outW, _ := os.Pipe()
				go func() {
					for p := data; len(p) > 0; p = p[32<<10:] {
						if _, err := inW.Write(p[:32<<10]); err != nil {
							break
						}
					}
					inW.Close()
				}()
				done := make(chan struct{})
				go func() {
					buf := make([]byte, 64<<10)
					for {
						if _, err := outR.Read(buf); err != nil {
							break
						}
					}
					close(done)
				}()
				if _, err := bc.copy(outW, inR); err != nil {
					b.Fatal(err)
				}
				outW.Close()
				<-done
				inR.Close()
				outR.Close()
			}
		})
	}
}
