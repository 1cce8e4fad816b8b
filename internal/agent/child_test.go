package agent

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeRestic puts a restic on PATH that runs script.
func fakeRestic(t *testing.T, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "restic"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// A stopped restic never reads the end of its input, even one that ignores SIGINT: it
// is killed while its input is still open.
func TestStopKillsResticBeforeItsInputEnds(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "eof")
	fakeRestic(t, `trap '' INT; echo ready; cat >/dev/null; echo eof >`+mark)
	child, err := startRestic(os.Environ(), []string{"backup", "--stdin"}, ResticIO{Stderr: os.Stderr, PipeIn: true, PipeOut: true})
	if err != nil {
		t.Fatal(err)
	}
	// Ready: it ignores SIGINT now.
	if _, err := child.Stdout.Read(make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	if _, err := child.Stdin.Write([]byte("part of a dump")); err != nil {
		t.Fatal(err)
	}
	if !child.Stop() {
		t.Error("Stop says restic had exited by itself")
	}
	if code := child.Wait(); code != 128+9 {
		t.Errorf("exit code %d, want killed (137)", code)
	}
	_ = child.Stdin.Close()
	if _, err := os.Stat(mark); err == nil {
		t.Error("restic read the end of its input before it was stopped: it would have committed")
	}
}

func TestResticExitCodePassesThrough(t *testing.T) {
	fakeRestic(t, `cat; exit 11`)
	child, err := startRestic(os.Environ(), []string{"dump"}, ResticIO{Stderr: os.Stderr, PipeIn: true, PipeOut: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = child.Stdin.Write([]byte("x"))
	child.Stdin.Close()
	buf := make([]byte, 8)
	if n, _ := child.Stdout.Read(buf); string(buf[:n]) != "x" {
		t.Errorf("read %q from restic's output", buf[:n])
	}
	if code := child.Wait(); code != 11 || child.Stop() {
		t.Errorf("exit code %d (or Stop after the exit said it ran), want 11", code)
	}
}
