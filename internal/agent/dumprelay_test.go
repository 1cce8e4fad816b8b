package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/docker-backup/docker-backup/internal/agent"
)

// The relay restic runs exits 0 only when the agent marked the dump whole before its
// stream ended; an agent that dies mid-dump (its end of the FIFO closes with it) or a
// signal makes it fail, so restic commits nothing.
func TestDumpRelayExitsZeroOnlyForAWholeDump(t *testing.T) {
	for name, tc := range map[string]struct {
		whole, cancel bool
		want          int
	}{
		"marked whole":   {whole: true, want: agent.ExitOK},
		"the agent died": {want: agent.ExitFailure},
		"a signal":       {whole: true, cancel: true, want: agent.ExitInterrupted},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := unix.Mkfifo(filepath.Join(dir, "stream"), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, stderr strings.Builder
			done := make(chan int)
			go func() {
				done <- agent.Run(ctx, []string{agent.DumpRelayCommand, dir}, agent.Env{Streams: agent.Streams{Out: &out, Err: &stderr}})
			}()
			w, err := os.OpenFile(filepath.Join(dir, "stream"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteString("CREATE TABLE t;\n"); err != nil {
				t.Fatal(err)
			}
			if tc.cancel {
				cancel()
			}
			if tc.whole {
				if err := os.WriteFile(filepath.Join(dir, "whole"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.cancel {
				w.Close()
			}
			code := <-done
			w.Close()
			if code != tc.want {
				t.Errorf("exit %d (stderr %q), want %d", code, stderr.String(), tc.want)
			}
			if code == 0 && out.String() != "CREATE TABLE t;\n" {
				t.Errorf("relayed %q", out.String())
			}
		})
	}
}
