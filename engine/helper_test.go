package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// fakeHelperAPI plays a helper container that reads its stdin to the end and "commits"
// only when it sees end of input, as `restic backup --stdin` does. It embeds API so a
// call it does not override panics.
type fakeHelperAPI struct {
	API
	t         *testing.T
	mu        sync.Mutex
	files     map[string]string
	read      bytes.Buffer
	committed bool
	killed    []string
	removed   bool
	exit      chan int64
	server    net.Conn
}

func newFakeHelperAPI(t *testing.T) *fakeHelperAPI {
	return &fakeHelperAPI{t: t, files: map[string]string{}, exit: make(chan int64, 1)}
}

func (f *fakeHelperAPI) ContainerCreate(context.Context, client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	return client.ContainerCreateResult{ID: "helper1"}, nil
}

func (f *fakeHelperAPI) CopyToContainer(_ context.Context, _ string, o client.CopyToContainerOptions) (client.CopyToContainerResult, error) {
	tr := tar.NewReader(o.Content)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return client.CopyToContainerResult{}, nil
		}
		if err != nil {
			return client.CopyToContainerResult{}, err
		}
		b, _ := io.ReadAll(tr)
		f.files[h.Name] = string(b)
	}
}

// ContainerAttach connects over a Unix socket pair, which supports half-close like the
// engine's hijacked connection.
func (f *fakeHelperAPI) ContainerAttach(context.Context, string, client.ContainerAttachOptions) (client.ContainerAttachResult, error) {
	path := filepath.Join(f.t.TempDir(), "attach.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		return client.ContainerAttachResult{}, err
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		return client.ContainerAttachResult{}, err
	}
	f.server = <-accepted
	return client.ContainerAttachResult{HijackedResponse: client.NewHijackedResponse(c, "")}, nil
}

func (f *fakeHelperAPI) ContainerWait(context.Context, string, client.ContainerWaitOptions) client.ContainerWaitResult {
	res := make(chan container.WaitResponse, 1)
	go func() { res <- container.WaitResponse{StatusCode: <-f.exit} }()
	return client.ContainerWaitResult{Result: res, Error: make(chan error)}
}

// ContainerStart runs the "container": read stdin; at its end, commit and exit 0.
func (f *fakeHelperAPI) ContainerStart(context.Context, string, client.ContainerStartOptions) (client.ContainerStartResult, error) {
	go func() {
		_, err := io.Copy(&f.read, f.server)
		f.mu.Lock()
		defer f.mu.Unlock()
		if err == nil && len(f.killed) == 0 {
			f.committed = true
			f.server.Close()
			f.exit <- 0
		}
	}()
	return client.ContainerStartResult{}, nil
}

func (f *fakeHelperAPI) ContainerKill(_ context.Context, _ string, o client.ContainerKillOptions) (client.ContainerKillResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, o.Signal)
	if len(f.killed) == 1 {
		f.server.Close()
		f.exit <- 137
	}
	return client.ContainerKillResult{}, nil
}

func (f *fakeHelperAPI) ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	f.removed = true
	return client.ContainerRemoveResult{}, nil
}

func TestRunHelperStreamsInputAndCommits(t *testing.T) {
	api := newFakeHelperAPI(t)
	code, err := RunHelper(context.Background(), api, HelperSpec{
		Image: "restic", Stdin: strings.NewReader("the whole dump"),
		Files: []File{{Path: "/run/docker-backup/password", Mode: 0o400, Data: []byte("hunter2")}},
	})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if !api.committed || api.read.String() != "the whole dump" {
		t.Errorf("committed %v after reading %q, want the whole input committed", api.committed, api.read.String())
	}
	if api.files["run/docker-backup/password"] != "hunter2" {
		t.Errorf("files copied into the helper: %v", api.files)
	}
	if !api.removed {
		t.Error("the helper was not removed")
	}
}

func TestRunHelperKillsBeforeEndOfInputWhenInputFails(t *testing.T) {
	api := newFakeHelperAPI(t)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("half a dump"))
		pw.CloseWithError(errors.New("dump exited with code 1"))
	}()
	_, err := RunHelper(context.Background(), api, HelperSpec{Image: "restic", Stdin: pr})
	if !errors.Is(err, ErrInputFailed) || !strings.Contains(err.Error(), "dump exited with code 1") {
		t.Fatalf("err %v, want ErrInputFailed with the input's error", err)
	}
	if api.committed {
		t.Error("the helper saw end of input after its input failed: restic would commit a partial dump")
	}
	if len(api.killed) == 0 || api.killed[0] != "SIGKILL" {
		t.Errorf("signals %v, want SIGKILL first", api.killed)
	}
	if !api.removed {
		t.Error("the helper was not removed")
	}
}
