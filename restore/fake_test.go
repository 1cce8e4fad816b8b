package restore

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// fakeEngine embeds the API so that a call a test did not expect panics; it records
// what restore asked for, in order.
type fakeEngine struct {
	engine.API
	mu sync.Mutex
	// calls are "stop ID", "start ID", "volume-create NAME", "volume-rm NAME", "helper KIND".
	calls      []string
	containers []container.Summary
	volumes    map[string]map[string]string
	// helperExit is the exit code of each helper kind; helpers get their Env recorded.
	helperExit map[string]int
	helperEnv  map[string][]string
	created    map[string]string // container ID → kind
	// execStdin receives what a dump restore streams; execExit is its exit code.
	execStdin strings.Builder
	execExit  int
	execErr   string
}

func newFakeEngine(running ...string) *fakeEngine {
	f := &fakeEngine{volumes: map[string]map[string]string{}, helperExit: map[string]int{}, helperEnv: map[string][]string{}, created: map[string]string{}}
	for _, id := range running {
		f.containers = append(f.containers, container.Summary{ID: id, Names: []string{"/" + id}, State: container.StateRunning,
			Labels: map[string]string{engine.LabelProject: "p", engine.LabelService: "files", engine.LabelOneoff: "False"}})
	}
	return f
}

func (f *fakeEngine) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeEngine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	if !strings.Contains(fmt.Sprint(o.Filters), engine.LabelProject+"=") {
		return client.ContainerListResult{}, nil // Recover's and OpenRepository's helper lists
	}
	return client.ContainerListResult{Items: f.containers}, nil
}

func (f *fakeEngine) ContainerStop(_ context.Context, id string, _ client.ContainerStopOptions) (client.ContainerStopResult, error) {
	f.record("stop " + id)
	return client.ContainerStopResult{}, nil
}

func (f *fakeEngine) ContainerStart(_ context.Context, id string, _ client.ContainerStartOptions) (client.ContainerStartResult, error) {
	if kind, ok := f.created[id]; ok {
		f.record("helper " + kind)
		return client.ContainerStartResult{}, nil
	}
	f.record("start " + id)
	return client.ContainerStartResult{}, nil
}

func (f *fakeEngine) VolumeCreate(_ context.Context, o client.VolumeCreateOptions) (client.VolumeCreateResult, error) {
	f.record("volume-create " + o.Name)
	f.volumes[o.Name] = o.Labels
	return client.VolumeCreateResult{}, nil
}

func (f *fakeEngine) VolumeRemove(_ context.Context, name string, _ client.VolumeRemoveOptions) (client.VolumeRemoveResult, error) {
	f.record("volume-rm " + name)
	delete(f.volumes, name)
	return client.VolumeRemoveResult{}, nil
}

func (f *fakeEngine) VolumeList(_ context.Context, o client.VolumeListOptions) (client.VolumeListResult, error) {
	var res client.VolumeListResult
	for name, labels := range f.volumes {
		if matches(o.Filters, name, labels) {
			res.Items = append(res.Items, volume.Volume{Name: name, Labels: labels})
		}
	}
	return res, nil
}

// matches applies the engine's name (substring) and label (key or key=value) filters.
func matches(filters client.Filters, name string, labels map[string]string) bool {
	for n := range filters["name"] {
		if !strings.Contains(name, n) {
			return false
		}
	}
	for l := range filters["label"] {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := labels[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	return true
}

func (f *fakeEngine) ContainerCreate(_ context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	id := fmt.Sprintf("helper%d", len(f.created))
	kind := o.Config.Labels[engine.LabelKind]
	f.created[id] = kind
	f.helperEnv[kind] = o.Config.Env
	return client.ContainerCreateResult{ID: id}, nil
}

func (f *fakeEngine) ContainerAttach(context.Context, string, client.ContainerAttachOptions) (client.ContainerAttachResult, error) {
	conn := newFakeConn()
	go func() {
		writeStderr(conn.outW, "helper says no\n")
		conn.outW.Close()
	}()
	return client.ContainerAttachResult{HijackedResponse: client.NewHijackedResponse(conn, "")}, nil
}

func (f *fakeEngine) ContainerWait(_ context.Context, id string, _ client.ContainerWaitOptions) client.ContainerWaitResult {
	res := make(chan container.WaitResponse, 1)
	res <- container.WaitResponse{StatusCode: int64(f.helperExit[f.created[id]])}
	return client.ContainerWaitResult{Result: res, Error: make(chan error)}
}

func (f *fakeEngine) ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	return client.ContainerRemoveResult{}, nil
}

func (f *fakeEngine) ExecCreate(context.Context, string, client.ExecCreateOptions) (client.ExecCreateResult, error) {
	return client.ExecCreateResult{ID: "exec1"}, nil
}

func (f *fakeEngine) ExecAttach(context.Context, string, client.ExecAttachOptions) (client.ExecAttachResult, error) {
	conn := newFakeConn()
	go func() {
		b, _ := io.ReadAll(conn.inR)
		f.execStdin.Write(b)
		writeStderr(conn.outW, f.execErr)
		conn.outW.Close()
	}()
	return client.ExecAttachResult{HijackedResponse: client.NewHijackedResponse(conn, "")}, nil
}

func (f *fakeEngine) ExecInspect(context.Context, string, client.ExecInspectOptions) (client.ExecInspectResult, error) {
	return client.ExecInspectResult{ExitCode: f.execExit}, nil
}

// writeStderr writes s as one frame of the engine's multiplexed stream, on stderr.
func writeStderr(w io.Writer, s string) {
	if s == "" {
		return
	}
	hdr := []byte{2, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(s)))
	_, _ = w.Write(append(hdr, s...))
}

// fakeConn is a hijacked connection: the test reads what is written through inR and
// writes the container's output to outW.
type fakeConn struct {
	inR  *io.PipeReader
	inW  *io.PipeWriter
	outR *io.PipeReader
	outW *io.PipeWriter
}

func newFakeConn() *fakeConn {
	c := &fakeConn{}
	c.inR, c.inW = io.Pipe()
	c.outR, c.outW = io.Pipe()
	return c
}

func (c *fakeConn) Read(b []byte) (int, error)       { return c.outR.Read(b) }
func (c *fakeConn) Write(b []byte) (int, error)      { return c.inW.Write(b) }
func (c *fakeConn) CloseWrite() error                { return c.inW.Close() }
func (c *fakeConn) Close() error                     { c.inW.Close(); c.outR.Close(); return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return nil }
func (c *fakeConn) RemoteAddr() net.Addr             { return nil }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// fakeRunner records restic's argv and replays output by restic command.
type fakeRunner struct {
	mu     sync.Mutex
	eng    *fakeEngine
	argv   [][]string
	labels []map[string]string
	out    map[string]string
	errs   map[string]error
}

func (r *fakeRunner) Run(_ context.Context, inv restic.Invocation) error {
	r.mu.Lock()
	r.argv = append(r.argv, inv.Args)
	r.labels = append(r.labels, inv.Labels)
	r.mu.Unlock()
	if r.eng != nil {
		r.eng.record("restic " + inv.Args[0])
	}
	if err := r.errs[inv.Args[0]]; err != nil {
		return err
	}
	if inv.Stdout != nil {
		_, _ = io.WriteString(inv.Stdout, r.out[inv.Args[0]])
	}
	return nil
}

// nopReporter discards progress.
type nopReporter struct{ steps []string }

func (n *nopReporter) Start(Job)                             {}
func (n *nopReporter) Step(_ string, m string)               { n.steps = append(n.steps, m) }
func (n *nopReporter) Progress(string, restic.RestoreStatus) {}
func (n *nopReporter) Done(Result)                           {}

// filesPlan is a project p with a volumes service files and a dump service db.
func filesPlan() *composeext.Plan {
	return &composeext.Plan{
		Project: "p", Image: "restic-image",
		Repository: composeext.Repository{URL: "/repo", Display: "/repo", Local: true},
		Services: []composeext.ServicePlan{
			{Name: "files", Strategy: composeext.StrategyVolumes, Tags: []string{"project=p", "service=files", "strategy=volumes"},
				Volumes: []composeext.Mount{{Key: "data", Type: "volume", Source: "p_data", Target: "/data", Path: "/backup/files/data"}}},
			{Name: "db", Strategy: composeext.StrategyDump, Tags: []string{"project=p", "service=db", "strategy=dump"},
				Dump: &composeext.DumpSpec{Command: []string{"dump"}, Restore: []string{"sh", "-c", "psql"}, Filename: "db.sql"}},
		},
	}
}
