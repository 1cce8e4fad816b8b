package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/notify"
	"github.com/docker-backup/docker-backup/internal/report"
)

// TestRunNotifierInterrupted checks that a cancelled run is notified as interrupted,
// not failed, and still sent: a service under way is interrupted, one never begun
// skipped; the healthcheck gets no /fail but the summary on its log endpoint.
func TestRunNotifierInterrupted(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.Path+" "+string(b))
		if r.URL.Path != "/hook" {
			return
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		got = append(got, m)
	}))
	defer srv.Close()
	plan := &composeext.Plan{Project: "shop", Notify: []notify.Target{{URL: srv.URL + "/hook", Service: notify.ServiceWebhook, On: []notify.Event{notify.Failure}}},
		Healthcheck: &notify.Healthcheck{Success: &notify.Ping{URL: srv.URL + "/hc"}, Failure: &notify.Ping{URL: srv.URL + "/hc/fail"}}}
	var warnings []string
	n := newRunNotifier(plan, false, func(s string) { warnings = append(warnings, s) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.done(ctx, report.Run{Command: "up", Project: "shop", Status: report.StatusFailed, Error: "", Services: []report.Service{
		{Service: "db", Status: report.StatusOK, Snapshot: "abc"},
		{Service: "files", Status: report.StatusFailed, Error: "context canceled"},
	}})
	byService := map[string]map[string]any{}
	for _, m := range got {
		byService[m["service"].(string)] = m
	}
	if len(got) != 2 || byService["files"]["status"] != "interrupted" || byService["files"]["error"] != "" ||
		byService[""]["status"] != "interrupted" || byService[""]["error"] != "stopped before its end: files interrupted" || len(warnings) > 0 {
		t.Errorf("got %v (warnings %q), want files interrupted and the run's notice", got, warnings)
	}
	if len(paths) != 3 || !strings.HasPrefix(paths[2], "/hc/log ") || !strings.Contains(paths[2], "up INTERRUPTED: files interrupted; 1 ok") {
		t.Errorf("requests %q, want the two notices and the healthcheck's log ping", paths)
	}
	if newRunNotifier(plan, true, nil) != nil {
		t.Error("--no-notify: want no notifier")
	}
	var none *runNotifier
	none.start(ctx) // does nothing
	none.done(ctx, report.Run{})
}

// TestPlanTextNotify checks that plan shows notify targets and pings, masked.
func TestPlanTextNotify(t *testing.T) {
	dir := writeCompose(t, `
x-backup:
  notify:
    - ${HOOK}
    - {url: "ntfy://ntfy.sh/backups-7f3a9c1e", on: [success, warning]}
  healthcheck: https://hc-ping.com/0b9a4a4e-9d3c-4c62-8a0f-1f4f2b7c1e55
services:
  app:
    image: busybox
    x-backup: false
`)
	var out bytes.Buffer
	err := runPlan(context.Background(), &planOptions{
		load: composeext.LoadOptions{WorkingDir: dir, Environ: []string{"HOOK=https://hooks.slack.com/services/T0001/B0002/Xy9Zs3cr3tT0k3n"}},
		out:  &out, errOut: &bytes.Buffer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Notify https://hooks.slack.com/*** (webhook) on failure",
		"Notify ntfy://*** (ntfy) on success, warning",
		"Healthcheck start https://hc-ping.com/***, success https://hc-ping.com/***, failure https://hc-ping.com/***",
	} {
		// Columns are padded to the longest label: compare words.
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, secret := range []string{"Xy9Zs3cr3tT0k3n", "backups-7f3a9c1e", "0b9a4a4e"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output shows %q:\n%s", secret, out.String())
		}
	}
}
