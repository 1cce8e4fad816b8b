package engine_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// committer plays a helper that reads its stdin to the end and "commits" only when it
// sees end of input, as `restic backup --stdin` does.
type committer struct {
	mu        sync.Mutex
	read      string
	committed bool
}

func (c *committer) program(p *enginetest.Process) int {
	b, err := io.ReadAll(p.Stdin)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read = string(b)
	if err == nil {
		c.committed = true
	}
	return 0
}

func TestRunHelperStreamsInputAndCommits(t *testing.T) {
	api := enginetest.New(t)
	helper := &committer{}
	api.Program = helper.program
	code, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{
		Image: "restic", Stdin: strings.NewReader("the whole dump"),
		Files: []engine.File{{Path: "/run/docker-backup/password", Mode: 0o400, Data: []byte("hunter2")}},
	})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if !helper.committed || helper.read != "the whole dump" {
		t.Errorf("committed %v after reading %q, want the whole input committed", helper.committed, helper.read)
	}
	created := api.Created()
	if len(created) != 1 {
		t.Fatalf("%d helpers created, want 1", len(created))
	}
	if created[0].Files["/run/docker-backup/password"] != "hunter2" {
		t.Errorf("files copied into the helper: %v", created[0].Files)
	}
	if !created[0].Removed {
		t.Error("the helper was not removed")
	}
}

func TestRunHelperKillsBeforeEndOfInputWhenInputFails(t *testing.T) {
	api := enginetest.New(t)
	helper := &committer{}
	api.Program = helper.program
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("half a dump"))
		pw.CloseWithError(errors.New("dump exited with code 1"))
	}()
	_, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{Image: "restic", Stdin: pr})
	if !errors.Is(err, engine.ErrInputFailed) || !strings.Contains(err.Error(), "dump exited with code 1") {
		t.Fatalf("err %v, want ErrInputFailed with the input's error", err)
	}
	helper.mu.Lock()
	committed := helper.committed
	helper.mu.Unlock()
	if committed {
		t.Error("the helper saw end of input after its input failed: restic would commit a partial dump")
	}
	c := api.Created()[0]
	if len(c.Signals) == 0 || c.Signals[0] != "SIGKILL" {
		t.Errorf("signals %v, want SIGKILL first", c.Signals)
	}
	if !c.Removed {
		t.Error("the helper was not removed")
	}
}

func TestRunHelperReturnsExitCodeAndOutput(t *testing.T) {
	api := enginetest.New(t)
	api.Program = func(p *enginetest.Process) int {
		_, _ = io.WriteString(p.Stdout, "out\n")
		_, _ = io.WriteString(p.Stderr, "err\n")
		return 3
	}
	var stdout, stderr strings.Builder
	code, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{
		Name: "h1", Image: "img", Cmd: []string{"x"}, Hostname: "docker-backup-abc", Init: true,
		Labels: map[string]string{"k": "v"}, Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil || code != 3 {
		t.Fatalf("code %d, err %v, want 3 and no error", code, err)
	}
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	c := api.Created()[0]
	if c.Name != "h1" || c.Config.Hostname != "docker-backup-abc" || c.HostConfig.Init == nil || !*c.HostConfig.Init || c.Config.Labels["k"] != "v" {
		t.Errorf("helper created as %+v", c)
	}
}

// A helper that exits without reading all its input: its exit code says how it went.
func TestRunHelperThatStopsReadingEarly(t *testing.T) {
	api := enginetest.New(t)
	api.Program = func(p *enginetest.Process) int { return 1 }
	big := strings.NewReader(strings.Repeat("x", 4<<20))
	code, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{Image: "img", Stdin: big})
	if err != nil || code != 1 {
		t.Fatalf("code %d, err %v, want 1 and no error", code, err)
	}
}

// failingWriter takes one write, then fails, like a reader that gave up.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.n++
	if f.n > 1 {
		return 0, errors.New("the reader gave up")
	}
	return len(p), nil
}

// A helper whose output nobody takes any more is killed, its output still read to the
// end (the engine finishes a container only then), and RunHelper returns at once.
func TestRunHelperKillsAHelperWhoseReaderGaveUp(t *testing.T) {
	api := enginetest.New(t)
	api.Program = func(p *enginetest.Process) int {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := p.Stdout.Write(chunk); err != nil {
				return 0
			}
		}
	}
	_, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{Image: "restic", Stdout: &failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "the reader gave up") {
		t.Fatalf("err %v, want the reader's failure", err)
	}
	created := api.Created()
	if len(created) != 1 || len(created[0].Signals) == 0 || created[0].Signals[0] != "SIGKILL" || !created[0].Removed {
		t.Errorf("helper %+v: want it killed with SIGKILL and removed", created)
	}
}

// A helper whose container could not be created or started never ran its command: its
// error says so, so a caller knows nothing was changed.
func TestRunHelperNotStarted(t *testing.T) {
	for _, call := range []string{"create h", "start h"} {
		api := enginetest.New(t)
		api.Fail(call, errors.New("no such image"))
		_, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{Name: "h", Image: "restic"})
		if !errors.Is(err, engine.ErrNotStarted) || !strings.Contains(err.Error(), "no such image") {
			t.Errorf("%s fails: err %v, want ErrNotStarted with the engine's words", call, err)
		}
	}
	api := enginetest.New(t)
	api.Program = func(*enginetest.Process) int { return 3 }
	if _, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{Name: "h", Image: "restic"}); errors.Is(err, engine.ErrNotStarted) {
		t.Errorf("a helper that ran: err %v", err)
	}
}

func TestCreateNewVolumeRefusesAnExistingOne(t *testing.T) {
	api := enginetest.New(t)
	api.AddVolume("v", nil)
	if err := engine.CreateNewVolume(context.Background(), api, "v", nil); !errors.Is(err, engine.ErrVolumeExists) {
		t.Errorf("err %v, want ErrVolumeExists", err)
	}
	if err := engine.CreateNewVolume(context.Background(), api, "w", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	if v, ok := api.Volume("w"); !ok || v.Labels["a"] != "b" {
		t.Errorf("volume w %+v %v", v, ok)
	}
}

// A held input is never written nor ended while the helper runs: the helper reads its
// end only when the caller goes.
func TestRunHelperHoldsInputOpen(t *testing.T) {
	api := enginetest.New(t)
	ended := make(chan bool, 1)
	api.Program = func(p *enginetest.Process) int {
		got := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, p.Stdin)
			close(got)
		}()
		select {
		case <-got:
			ended <- true
		default:
			ended <- false
		}
		return 0
	}
	code, err := engine.RunHelper(context.Background(), api, engine.HelperSpec{Image: "agent", HoldStdin: true})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if <-ended {
		t.Error("the helper's held input ended while the caller still waited for it")
	}
	c := api.Created()[0]
	if !c.Config.OpenStdin || !c.Config.StdinOnce || !c.Config.AttachStdin {
		t.Errorf("config %+v: want an attached input that the engine ends with the caller", c.Config)
	}
}
