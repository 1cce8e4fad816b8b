package engine_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// closedPipe fails every write, as a pipe whose reader (restic) gave up.
type closedPipe struct{}

func (closedPipe) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A killable exec whose output is no longer read, or whose context ends, is ended in
// its container; its PID line never reaches the caller's stderr.
func TestExecKillEndsTheCommandWhenItReturnsEarly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdout io.Writer
		cancel bool
	}{
		{name: "output no longer read", stdout: closedPipe{}},
		{name: "context cancelled", stdout: io.Discard, cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := enginetest.New(t)
			api.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
			killed := make(chan struct{})
			api.Exec = func(x *enginetest.ExecProcess) int {
				_, _ = io.WriteString(x.Stderr, "starting\n")
				for {
					if _, err := x.Stdout.Write([]byte("row\n")); err != nil {
						break
					}
					select {
					case <-x.Killed:
						close(killed)
						return 143
					case <-time.After(time.Millisecond):
					}
				}
				<-x.Killed
				close(killed)
				return 143
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			var stderr strings.Builder
			_, err := engine.Exec(ctx, api, "c1", engine.ExecSpec{Cmd: []string{"pg_dumpall"}, Stdout: tc.stdout, Stderr: &stderr, Kill: true})
			if err == nil {
				t.Fatal("Exec succeeded")
			}
			select {
			case <-killed:
			case <-time.After(5 * time.Second):
				t.Fatalf("the command was not ended; calls %q", api.Calls())
			}
			if got := api.CallsWith("kill-exec"); len(got) == 0 {
				t.Errorf("no kill call in %q", api.Calls())
			}
			if stderr.String() != "starting\n" {
				t.Errorf("stderr %q, want the command's own", stderr.String())
			}
		})
	}
}

// A killable exec that ends by itself is not killed, and its output is whole.
func TestExecKillLeavesAFinishedCommand(t *testing.T) {
	api := enginetest.New(t)
	api.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	api.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.WriteString(x.Stdout, "dump")
		_, _ = io.WriteString(x.Stderr, "no newline at the end")
		return 0
	}
	var stdout, stderr strings.Builder
	code, err := engine.Exec(context.Background(), api, "c1", engine.ExecSpec{Cmd: []string{"dump"}, Stdout: &stdout, Stderr: &stderr, Kill: true})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if stdout.String() != "dump" || stderr.String() != "no newline at the end" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if got := api.CallsWith("exec"); !slices.Equal(got, []string{"exec c1 dump"}) {
		t.Errorf("calls %q", got)
	}
	if got := api.CallsWith("kill-exec"); len(got) != 0 {
		t.Errorf("kill calls %q", got)
	}
}
