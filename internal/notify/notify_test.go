package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
)

// receiver records what an endpoint got: path and body of each request, in order.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []request
	srv    *httptest.Server
}

type request struct {
	method, path, contentType, body string
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{req.Method, req.URL.Path, req.Header.Get("Content-Type"), string(b)})
		r.mu.Unlock()
		w.WriteHeader(r.status)
		fmt.Fprint(w, "{}")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// warnings collects Warn lines.
type warnings struct {
	mu    sync.Mutex
	lines []string
}

func (w *warnings) add(s string) { w.mu.Lock(); w.lines = append(w.lines, s); w.mu.Unlock() }

func target(url string, on ...Event) Target {
	service := ServiceWebhook
	if !strings.HasPrefix(url, "http") {
		service = url[:strings.Index(url, ":")]
	}
	return Target{URL: url, Display: "masked://***", Service: service, On: on}
}

// sampleRun is an up with one failed, one ok, one warning and one skipped service.
func sampleRun() report.Run {
	return report.Run{
		Command: "up", Project: "shop", Machine: "vm-3f9a1c",
		Started: time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC), Duration: 90 * time.Second,
		Status: report.StatusFailed,
		Services: []report.Service{
			{Service: "db", Strategy: "dump", Status: report.StatusFailed, Error: "dump command exited 1: pg_dumpall: connection refused", Duration: 3 * time.Second},
			{Service: "files", Strategy: "volumes", Status: report.StatusOK, Snapshot: "4f1e2d3c4b5a69788796a5b4c3d2e1f0", Duration: 12 * time.Second},
			{Service: "media", Strategy: "volumes", Status: report.StatusWarning, Error: "1 file could not be read", Snapshot: "aa11bb22cc33", Duration: 5 * time.Second},
			{Service: "cache", Strategy: "none", Status: report.StatusSkipped},
		},
	}
}

// TestDoneWebhookBody checks the JSON a generic webhook receives.
func TestDoneWebhookBody(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	plan := &testPlan{Project: "shop", Notify: []Target{target(rcv.srv.URL+"/hook", Failure)}}
	newNotifier(plan, Options{}).Done(context.Background(), sampleRun())
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("got %d requests, want 1: %v", len(got), got)
	}
	r := got[0]
	if r.method != http.MethodPost || r.path != "/hook" || r.contentType != "application/json" {
		t.Errorf("got %s %s (%s), want POST /hook (application/json)", r.method, r.path, r.contentType)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	want := map[string]any{
		"project": "shop", "machine": "vm-3f9a1c", "command": "up", "service": "db", "status": "failed",
		"error": "dump command exited 1: pg_dumpall: connection refused", "snapshot": "",
		"duration_seconds": 3.0, "time": "2026-12-01T02:31:30Z",
	}
	if len(body) != len(want) {
		t.Errorf("body has %d fields, want %d: %s", len(body), len(want), r.body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body.%s = %#v, want %#v", k, body[k], v)
		}
	}
}

// TestDoneOn checks that each target gets the outcomes it asks for, skipped never, and
// that a run with no services or failing itself is one notice with no service.
func TestDoneOn(t *testing.T) {
	cases := []struct {
		name string
		on   []Event
		run  report.Run
		want []string // service/status of each notice
	}{
		{"failure", []Event{Failure}, sampleRun(), []string{"db/failed"}},
		{"success", []Event{Success}, sampleRun(), []string{"files/ok"}},
		{"warning", []Event{Warning}, sampleRun(), []string{"media/warning"}},
		{"all", []Event{Failure, Success, Warning}, sampleRun(),
			[]string{"db/failed", "files/ok", "media/warning"}},
		{"no services", []Event{Success}, report.Run{Command: "check", Project: "shop", Status: report.StatusOK}, []string{"/ok"}},
		{"run error", []Event{Failure}, report.Run{Command: "up", Project: "shop", Status: report.StatusFailed, Error: "interrupted"}, []string{"/failed"}},
		{"ok run, failure only", []Event{Failure}, report.Run{Command: "up", Project: "shop", Status: report.StatusOK,
			Services: []report.Service{{Service: "files", Status: report.StatusOK}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusNoContent)
			plan := &testPlan{Notify: []Target{target(rcv.srv.URL, tc.on...)}}
			var w warnings
			newNotifier(plan, Options{Warn: w.add}).Done(context.Background(), tc.run)
			var got []string
			for _, r := range rcv.requests() {
				var n Notice
				if err := json.Unmarshal([]byte(r.body), &n); err != nil {
					t.Fatal(err)
				}
				got = append(got, n.Service+"/"+string(n.Status))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("notices %v, want %v", got, tc.want)
			}
			if len(w.lines) > 0 {
				t.Errorf("warnings: %v", w.lines)
			}
		})
	}
}

// TestDoneFailingEndpoint checks that notices that cannot be sent are masked warnings,
// and that the other targets and the healthcheck are still served.
func TestDoneFailingEndpoint(t *testing.T) {
	bad := newReceiver(t, http.StatusInternalServerError)
	good := newReceiver(t, http.StatusOK)
	hc := newReceiver(t, http.StatusOK)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/T0123456789/secret-token-0123456789"
	closed.Close()
	badURL := bad.srv.URL + "/hooks/T0123456789/B0123456789/XXXXXXXXXXXX"
	plan := &testPlan{
		Notify: []Target{
			target(badURL, Failure),
			target(closedURL, Failure),
			target(good.srv.URL, Failure),
		},
		Healthcheck: &Healthcheck{Failure: &Ping{URL: hc.srv.URL + "/fail", Display: "http://hc/***"}},
		Secrets:     []string{badURL, closedURL},
	}
	var w warnings
	newNotifier(plan, Options{Warn: w.add, Timeout: 5 * time.Second}).Done(context.Background(), sampleRun())
	if n := len(good.requests()); n != 1 {
		t.Errorf("the good target got %d notices, want 1", n)
	}
	if n := len(hc.requests()); n != 1 {
		t.Errorf("the healthcheck got %d pings, want 1", n)
	}
	if len(w.lines) != 2 {
		t.Fatalf("warnings %q, want 2", w.lines)
	}
	all := strings.Join(w.lines, "\n")
	for _, want := range []string{"notify masked://***: 500 Internal Server Error", "connection refused"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q do not say %q", w.lines, want)
		}
	}
	for _, secret := range []string{"T0123456789", "secret-token", "XXXXXXXXXXXX"} {
		if strings.Contains(all, secret) {
			t.Errorf("warnings show %q: %q", secret, w.lines)
		}
	}
}

// TestDoneInterrupted checks that a cancelled context still sends, within the timeout.
func TestDoneInterrupted(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	plan := &testPlan{Notify: []Target{target(rcv.srv.URL, Failure)}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var w warnings
	newNotifier(plan, Options{Warn: w.add}).Done(ctx, report.Run{Command: "up", Project: "shop", Status: report.StatusFailed, Error: "interrupted"})
	if n := len(rcv.requests()); n != 1 || len(w.lines) > 0 {
		t.Errorf("got %d notices and warnings %q, want 1 and none", n, w.lines)
	}
}

// TestTimeout checks that an endpoint that does not answer is given up after the
// timeout, as a warning.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	plan := &testPlan{Notify: []Target{target(slow.URL, Failure)}}
	var w warnings
	start := time.Now()
	newNotifier(plan, Options{Warn: w.add, Timeout: 200 * time.Millisecond}).Done(context.Background(), sampleRun())
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Done took %v, want about the timeout", d)
	}
	if len(w.lines) != 1 || !strings.Contains(w.lines[0], "deadline exceeded") {
		t.Errorf("warnings %q, want one timeout", w.lines)
	}
}

// TestHealthcheckOrder checks start, then success or failure by the run's status, with
// the summary as the body.
func TestHealthcheckOrder(t *testing.T) {
	for _, tc := range []struct {
		status report.Status
		want   string
	}{{report.StatusOK, "/hc"}, {report.StatusWarning, "/hc"}, {report.StatusFailed, "/hc/fail"}} {
		t.Run(string(tc.status), func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			base := rcv.srv.URL + "/hc"
			plan := &testPlan{Healthcheck: &Healthcheck{
				Start:   &Ping{URL: base + "/start"},
				Success: &Ping{URL: base},
				Failure: &Ping{URL: base + "/fail"},
			}}
			n := newNotifier(plan, Options{})
			n.Start(context.Background())
			run := sampleRun()
			run.Status = tc.status
			n.Done(context.Background(), run)
			got := rcv.requests()
			if len(got) != 2 || got[0].path != "/hc/start" || got[1].path != tc.want {
				t.Fatalf("pings %v, want /hc/start then %s", got, tc.want)
			}
			if want := "docker-backup shop@vm-3f9a1c: up "; !strings.HasPrefix(got[1].body, want) || !strings.Contains(got[1].body, "db failed: dump command exited 1") {
				t.Errorf("body %q, want the run's summary", got[1].body)
			}
		})
	}
}

// TestShoutrrrNtfy sends through shoutrrr's ntfy service to a local server.
func TestShoutrrrNtfy(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	host := strings.TrimPrefix(rcv.srv.URL, "http://")
	plan := &testPlan{Notify: []Target{target("ntfy://"+host+"/backups?disabletls=yes", Failure)}}
	var w warnings
	newNotifier(plan, Options{Warn: w.add}).Done(context.Background(), sampleRun())
	if len(w.lines) > 0 {
		t.Fatalf("warnings: %q", w.lines)
	}
	got := rcv.requests()
	if len(got) != 1 || got[0].path != "/backups" {
		t.Fatalf("got %v, want one POST to /backups", got)
	}
	if want := "docker-backup shop@vm-3f9a1c: db backup FAILED: dump command exited 1: pg_dumpall: connection refused"; !strings.Contains(got[0].body, want) {
		t.Errorf("body %q, want it to hold %q", got[0].body, want)
	}
}

// TestShoutrrrFailureMasked checks that shoutrrr's errors, which quote the URL, are
// masked in the warning.
func TestShoutrrrFailureMasked(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	url := "ntfy://reporter:s3cretpassw0rd@" + host + "/topic-4f9a2b7c?disabletls=yes"
	plan := &testPlan{Notify: []Target{target(url, Failure)}}
	plan.Secrets = []string{url, "s3cretpassw0rd", "topic-4f9a2b7c"}
	var w warnings
	newNotifier(plan, Options{Warn: w.add}).Done(context.Background(), sampleRun())
	if len(w.lines) != 1 || !strings.Contains(w.lines[0], "connection refused") {
		t.Fatalf("warnings %q, want 1 of a refused connection", w.lines)
	}
	for _, s := range []string{"s3cretpassw0rd", "topic-4f9a2b7c"} {
		if strings.Contains(w.lines[0], s) {
			t.Errorf("warning shows %q: %s", s, w.lines[0])
		}
	}
}

// TestNoticeText checks the human line of each kind of notice.
func TestNoticeText(t *testing.T) {
	ns := Notices(sampleRun())
	want := []string{
		"docker-backup shop@vm-3f9a1c: db backup FAILED: dump command exited 1: pg_dumpall: connection refused",
		"docker-backup shop@vm-3f9a1c: files backup ok (snapshot 4f1e2d3c, 12s)",
		"docker-backup shop@vm-3f9a1c: media backup WARNING: 1 file could not be read",
		"docker-backup shop@vm-3f9a1c: cache backup skipped",
	}
	for i, n := range ns {
		if i >= len(want) || n.Text() != want[i] {
			t.Errorf("notice %d: %q", i, n.Text())
		}
	}
	if got := (Notice{Project: "shop", Command: "up", Status: report.StatusFailed, Error: "interrupted"}).Text(); got != "docker-backup shop: up FAILED: interrupted" {
		t.Errorf("run notice: %q", got)
	}
}

// TestDoneMasksWhatItSends checks that a notice's body and a ping's carry neither a
// secret's value nor a URL's password, whoever built the report: they go to a third
// party.
func TestDoneMasksWhatItSends(t *testing.T) {
	hook := newReceiver(t, http.StatusOK)
	hc := newReceiver(t, http.StatusOK)
	plan := &testPlan{
		Notify:      []Target{target(hook.srv.URL+"/hook", Failure)},
		Healthcheck: &Healthcheck{Failure: &Ping{URL: hc.srv.URL + "/fail"}},
		Secrets:     []string{"r00t-s3cret"},
	}
	run := sampleRun()
	run.Services[0].Error = "dump command exited 1: r00t-s3cret; connecting to postgres://app:pw@db/app: refused"
	run.Error = "mysql://root:pw2@db/x unreachable"
	newNotifier(plan, Options{}).Done(context.Background(), run)
	got := append(hook.requests(), hc.requests()...)
	if len(got) != 3 {
		t.Fatalf("got %d requests, want 2 notices and a ping: %v", len(got), got)
	}
	for _, r := range got {
		for _, secret := range []string{"r00t-s3cret", ":pw@", ":pw2@"} {
			if strings.Contains(r.body, secret) {
				t.Errorf("%s got %q: %s", r.path, secret, r.body)
			}
		}
	}
	if !strings.Contains(got[2].body, "postgres://app:***@db/app") {
		t.Errorf("ping body %q, want the masked DSN", got[2].body)
	}
	if run.Services[0].Error == "" || !strings.Contains(run.Services[0].Error, "r00t-s3cret") {
		t.Errorf("Done changed the caller's report: %q", run.Services[0].Error)
	}
}

// TestInterruptedRun: a stopped run is no failure: no /fail ping, its summary on the
// check's log endpoint (base URL convention only); its interrupted and not-begun
// services are notified with the failures, strategy none's skip is not.
func TestInterruptedRun(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	base := rcv.srv.URL + "/hc"
	hook := rcv.srv.URL + "/hook"
	run := sampleRun()
	run.Services[0].Status, run.Services[0].Error = report.StatusInterrupted, ""
	run.Services = append(run.Services, report.Service{Service: "late", Strategy: "dump", Status: report.StatusSkipped, Error: report.NotBegun})
	run.Status, run.Error = report.StatusInterrupted, "stopped before its end: db interrupted; late not begun"
	for _, tc := range []struct {
		name string
		hc   *Healthcheck
		want []string
	}{
		{"base URL", &Healthcheck{Success: &Ping{URL: base}, Failure: &Ping{URL: base + "/fail"}}, []string{"/hc/log"}},
		{"own URLs", &Healthcheck{Success: &Ping{URL: base + "/ok"}, Failure: &Ping{URL: base + "/bad"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv.mu.Lock()
			rcv.got = nil
			rcv.mu.Unlock()
			plan := &testPlan{Healthcheck: tc.hc, Notify: []Target{target(hook, Failure)}}
			newNotifier(plan, Options{}).Done(context.Background(), run)
			var pings, notices []string
			for _, r := range rcv.requests() {
				if r.path == "/hook" {
					var n Notice
					_ = json.Unmarshal([]byte(r.body), &n)
					notices = append(notices, n.Service+" "+string(n.Status))
					continue
				}
				pings = append(pings, r.path)
				if !strings.Contains(r.body, "up INTERRUPTED: db interrupted; media warning: 1 file could not be read; late not begun; 1 ok") {
					t.Errorf("ping body %q", r.body)
				}
			}
			slices.Sort(notices)
			if !slices.Equal(pings, tc.want) || strings.Join(notices, ",") != " interrupted,db interrupted,late skipped" {
				t.Errorf("pings %v (want %v), notices %q", pings, tc.want, notices)
			}
		})
	}
}

// testPlan is what a plan gives a Notifier: its targets, pings and secrets.
type testPlan struct {
	Project     string
	Notify      []Target
	Healthcheck *Healthcheck
	Secrets     []string
}

// testURLPasswordRE finds a URL's password, as composeext.Plan.Mask does.
var testURLPasswordRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/?#@'"]*):([^\s/?#@'"]+)@`)

// mask hides the plan's secrets and URL passwords, as composeext.Plan.Mask does.
func (p *testPlan) mask(s string) string {
	for _, secret := range p.Secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return testURLPasswordRE.ReplaceAllString(s, "${1}:***@")
}

// newNotifier is New for a test plan, masking as the plan does.
func newNotifier(p *testPlan, opts Options) *Notifier {
	opts.Mask = p.mask
	return New(Config{Targets: p.Notify, Healthcheck: p.Healthcheck}, opts)
}
