//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is an HTTP endpoint on 127.0.0.1 that records what it was sent, in order.
type receiver struct {
	url string
	mu  sync.Mutex
	got []received
}

// received is one request a receiver got.
type received struct {
	path, contentType, body string
}

func newReceiver(t *testing.T) *receiver { return newReceiverOn(t, "127.0.0.1:0") }

// newReceiverOn is a receiver listening on addr: a network the test made, for a
// container to reach (its gateway, the host's address on it).
func newReceiverOn(t *testing.T, addr string) *receiver {
	t.Helper()
	r := &receiver{}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.URL.Path, req.Header.Get("Content-Type"), string(b)})
		r.mu.Unlock()
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// notice is the JSON body of a webhook notice.
type notice struct {
	Project  string  `json:"project"`
	Machine  string  `json:"machine"`
	Command  string  `json:"command"`
	Service  string  `json:"service"`
	Status   string  `json:"status"`
	Error    string  `json:"error"`
	Snapshot string  `json:"snapshot"`
	Duration float64 `json:"duration_seconds"`
	Time     string  `json:"time"`
}

func (r *receiver) notices(t *testing.T) []notice {
	t.Helper()
	var out []notice
	for _, req := range r.requests() {
		var n notice
		if err := json.Unmarshal([]byte(req.body), &n); err != nil || req.contentType != "application/json" {
			t.Fatalf("a notice that is not JSON (%s, %v): %q", req.contentType, err, req.body)
		}
		out = append(out, n)
	}
	return out
}

// TestNotify runs up on a project with a broken dump and a working one: the failure
// target gets one notice naming the broken service and its error, the success target
// one for the working service, and the healthcheck /start, then /fail. The URLs never
// show in up's output.
func TestNotify(t *testing.T) {
	t.Parallel()
	failures, successes, health := newReceiver(t), newReceiver(t), newReceiver(t)
	p := newProject(t, "notify")
	hcBase := health.url + "/ping/5f1c2a9e-0d4b-4e1a-9c3b-7a2d8e6f4b10"
	spec := p.cmd([]string{"docker", "backup", "up"})
	spec.env = append(spec.env,
		"NOTIFY_FAILURE_URL="+failures.url+"/hooks/failure-7c41d2e9b3",
		"NOTIFY_SUCCESS_URL="+successes.url+"/hooks/success-0a9f3e5c21",
		"HEALTHCHECK_URL="+hcBase,
	)
	r := spec.run()
	t.Logf("%s: exit code %d", r.cmd, r.code)
	if r.code != 1 {
		t.Fatalf("up: %v, want exit code 1 (broken's dump fails)", r)
	}

	eventually(t, 30*time.Second, "the healthcheck's closing ping", func() error {
		if n := len(health.requests()); n < 2 {
			return fmt.Errorf("%d pings", n)
		}
		return nil
	})
	pings := health.requests()
	t.Logf("healthcheck pings: %+v", pings)
	var paths []string
	for _, pg := range pings {
		paths = append(paths, strings.TrimPrefix(pg.path, "/ping/5f1c2a9e-0d4b-4e1a-9c3b-7a2d8e6f4b10"))
	}
	if !slices.Equal(paths, []string{"/start", "/fail"}) {
		t.Errorf("healthcheck pings %q, want /start then /fail", paths)
	}
	if last := pings[len(pings)-1].body; !strings.Contains(last, "up FAILED") || !strings.Contains(last, "broken failed") {
		t.Errorf("the /fail ping's body %q, want the run's summary", last)
	}

	got := failures.notices(t)
	if len(got) != 1 {
		t.Fatalf("the failure target got %d notices, want 1: %+v", len(got), got)
	}
	t.Logf("failure notice: %+v", got[0])
	if n := got[0]; n.Service != "broken" || n.Status != "failed" || n.Command != "up" || n.Project != p.name ||
		!strings.Contains(n.Error, "the database went away") || n.Snapshot != "" || n.Machine == "" {
		t.Errorf("failure notice %+v, want broken failed, with its error line", n)
	}
	got = successes.notices(t)
	if len(got) != 1 {
		t.Fatalf("the success target got %d notices, want 1 (works): %+v", len(got), got)
	}
	if n := got[0]; n.Service != "works" || n.Status != "ok" || n.Snapshot == "" || n.Error != "" {
		t.Errorf("success notice %+v, want works ok with its snapshot", n)
	}
	for _, secret := range []string{"failure-7c41d2e9b3", "success-0a9f3e5c21", "5f1c2a9e-0d4b"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("up's output shows %q:\n%s\n%s", secret, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "warning: notify") {
		t.Errorf("up warned about a notice:\n%s", r.stdout)
	}
}
