package agent

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeResticOnPath puts a restic that runs script first on the test's PATH (where
// findRestic looks), and returns restic's environment.
func fakeResticOnPath(t *testing.T, script string) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "restic"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := dir + ":" + os.Getenv("PATH")
	t.Setenv("PATH", path)
	return []string{"PATH=" + path}
}

// runHeld runs `agent restic-held backup` with in as its input.
func runHeld(t *testing.T, environ []string, in io.Reader) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Run(context.Background(), []string{HeldResticCommand, "backup"}, Env{
		Streams: Streams{In: in, Out: &out, Err: &out},
		Environ: environ,
		StartRestic: func(args []string, rio ResticIO) (*Child, error) {
			return startRestic(environ, args, rio)
		},
	})
	return code, out.String()
}

// interruptibleRestic puts on PATH a fake restic that waits for its SIGINT and then
// exits 130, and returns the environment and an input for the agent that ends once that
// restic is ready for its interrupt.
func interruptibleRestic(t *testing.T) ([]string, io.Reader) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	environ := fakeResticOnPath(t, `trap 'echo interrupted; exit 130' INT; : > `+ready+`; while :; do sleep 0.05; done`)
	r, w := io.Pipe()
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(ready); err == nil {
				break
			}
		}
		w.Close()
	}()
	return environ, r
}

// The end of the agent's input interrupts restic (SIGINT), which then exits as it
// will (130 here): an interrupted backup commits nothing.
func TestHeldResticEndsWithItsInput(t *testing.T) {
	environ, r := interruptibleRestic(t)
	code, out := runHeld(t, environ, r)
	if code != 130 || !strings.Contains(out, "interrupted") {
		t.Fatalf("exit code %d, output %q: want restic interrupted (130)", code, out)
	}
}

// restic that ends by itself ends the agent with its code, the input still held.
func TestHeldResticExitsWithRestic(t *testing.T) {
	environ := fakeResticOnPath(t, `echo "args $*"; exit 3`)
	r, w := io.Pipe()
	defer w.Close()
	code, out := runHeld(t, environ, r)
	if code != 3 || !strings.Contains(out, "args backup") {
		t.Fatalf("exit code %d, output %q: want restic's 3 and its arguments", code, out)
	}
}
