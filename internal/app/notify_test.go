package app

import (
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
	n := newRunNotifier(context.Background(), plan, false, func(s string) { warnings = append(warnings, s) })
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
	if newRunNotifier(context.Background(), plan, true, nil) != nil {
		t.Error("--no-notify: want no notifier")
	}
	var none *runNotifier
	none.Event(Event{Kind: RunBegan}) // does nothing
	none.done(ctx, report.Run{})
}
