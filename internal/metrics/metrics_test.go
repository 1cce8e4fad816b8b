package metrics

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/docker-backup/docker-backup/internal/report"
)

var (
	t1 = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	t2 = t1.Add(24 * time.Hour)
)

// upRun is an up of project shop: db ok, files warned, cache skipped.
func upRun() report.Run {
	return report.Run{
		Command: "up", Project: "shop", Machine: "m1", Started: t1.Add(-time.Minute), Duration: 90 * time.Second, Status: report.StatusWarning,
		Services: []report.Service{
			{Service: "db", Strategy: "dump", Status: report.StatusOK, Duration: 30 * time.Second, BytesAdded: 4096, Files: 1},
			{Service: "files", Strategy: "volumes", Status: report.StatusWarning, Error: "unreadable", Duration: 80 * time.Second, BytesAdded: 1 << 20, Files: 120},
			{Service: "cache", Strategy: "none", Status: report.StatusSkipped},
		},
	}
}

// parse reads text-format metrics into "name{label=value,…}" → value, labels sorted.
func parse(t *testing.T, b []byte) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the output does not parse: %v\n%s", err, b)
	}
	out := map[string]float64{}
	for name, f := range families {
		if f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v, want a gauge", name, f.GetType())
		}
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			out[name+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

func text(t *testing.T, m *Metrics) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// want checks series' values; a NaN want means the series must be absent.
func want(t *testing.T, got map[string]float64, series map[string]float64) {
	t.Helper()
	for k, v := range series {
		g, ok := got[k]
		switch {
		case v != v && ok:
			t.Errorf("%s = %v, want no such series", k, g)
		case v == v && !ok:
			t.Errorf("%s missing", k)
		case v == v && g != v:
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}

var absent = func() float64 { var z float64; return z / z }()

func TestObserveUp(t *testing.T) {
	m := New()
	m.Observe(upRun(), t1)
	m.ObserveRepository("shop", 12, 5<<30)
	m.Heartbeat("shop", t1.Add(time.Second))
	ts := float64(t1.Unix())
	got := parse(t, text(t, m))
	want(t, got, map[string]float64{
		"docker_backup_last_run_timestamp_seconds{project=shop,service=db}":                  ts,
		"docker_backup_last_run_timestamp_seconds{project=shop,service=files}":               ts,
		"docker_backup_last_run_duration_seconds{project=shop,service=db}":                   30,
		"docker_backup_last_run_status{project=shop,service=db,status=ok}":                   1,
		"docker_backup_last_run_status{project=shop,service=db,status=warning}":              0,
		"docker_backup_last_run_status{project=shop,service=db,status=failed}":               0,
		"docker_backup_last_run_status{project=shop,service=files,status=warning}":           1,
		"docker_backup_last_run_status{project=shop,service=files,status=ok}":                0,
		"docker_backup_last_success_timestamp_seconds{project=shop,service=db}":              ts,
		"docker_backup_last_success_timestamp_seconds{project=shop,service=files}":           ts,
		"docker_backup_last_run_bytes_added{project=shop,service=files}":                     1 << 20,
		"docker_backup_last_run_files{project=shop,service=files}":                           120,
		"docker_backup_command_last_run_timestamp_seconds{command=up,project=shop}":          ts,
		"docker_backup_command_last_run_duration_seconds{command=up,project=shop}":           90,
		"docker_backup_command_last_run_status{command=up,project=shop,status=warning}":      1,
		"docker_backup_command_last_run_status{command=up,project=shop,status=failed}":       0,
		"docker_backup_command_last_success_timestamp_seconds{command=up,project=shop}":      ts,
		"docker_backup_repository_snapshots{project=shop}":                                   12,
		"docker_backup_repository_size_bytes{project=shop}":                                  5 << 30,
		"docker_backup_scheduler_heartbeat_timestamp_seconds{project=shop}":                  ts + 1,
		"docker_backup_last_run_timestamp_seconds{project=shop,service=cache}":               absent,
		"docker_backup_last_run_status{project=shop,service=cache,status=ok}":                absent,
		"docker_backup_command_last_success_timestamp_seconds{command=check,project=shop}":   absent,
		"docker_backup_command_last_run_status{command=check,project=shop,status=failed}":    absent,
		"docker_backup_scheduler_heartbeat_timestamp_seconds{project=other}":                 absent,
		"docker_backup_last_success_timestamp_seconds{project=shop,service=unknown-service}": absent,
	})
}

func TestObserveFailuresKeepTheLastSuccess(t *testing.T) {
	m := New()
	m.Observe(upRun(), t1)
	failed := upRun()
	failed.Status = report.StatusFailed
	failed.Services = failed.Services[:1]
	failed.Services[0].Status, failed.Services[0].Error = report.StatusFailed, "dump exited 1"
	m.Observe(failed, t2)
	got := parse(t, text(t, m))
	want(t, got, map[string]float64{
		"docker_backup_last_run_timestamp_seconds{project=shop,service=db}":             float64(t2.Unix()),
		"docker_backup_last_success_timestamp_seconds{project=shop,service=db}":         float64(t1.Unix()),
		"docker_backup_last_run_status{project=shop,service=db,status=failed}":          1,
		"docker_backup_last_run_status{project=shop,service=db,status=ok}":              0,
		"docker_backup_last_run_timestamp_seconds{project=shop,service=files}":          float64(t1.Unix()),
		"docker_backup_command_last_run_status{command=up,project=shop,status=failed}":  1,
		"docker_backup_command_last_run_status{command=up,project=shop,status=warning}": 0,
		"docker_backup_command_last_success_timestamp_seconds{command=up,project=shop}": float64(t1.Unix()),
	})
}

func TestObserveCheck(t *testing.T) {
	m := New()
	m.Observe(report.Run{Command: "check", Project: "shop", Duration: 4 * time.Second, Status: report.StatusOK}, t1)
	m.Observe(report.Run{Command: "prune", Project: "shop", Status: report.StatusFailed, Error: "locked"}, t2)
	got := parse(t, text(t, m))
	want(t, got, map[string]float64{
		"docker_backup_command_last_run_status{command=check,project=shop,status=ok}":      1,
		"docker_backup_command_last_success_timestamp_seconds{command=check,project=shop}": float64(t1.Unix()),
		"docker_backup_command_last_run_duration_seconds{command=check,project=shop}":      4,
		"docker_backup_command_last_run_status{command=prune,project=shop,status=failed}":  1,
		"docker_backup_command_last_run_timestamp_seconds{command=prune,project=shop}":     float64(t2.Unix()),
		"docker_backup_command_last_success_timestamp_seconds{command=prune,project=shop}": absent,
	})
	for k := range got {
		if strings.Contains(k, "service=") {
			t.Errorf("a check made a service series: %s", k)
		}
	}
}

// A drill's services get verify series, never a backup's: a passing drill is no backup.
func TestObserveVerify(t *testing.T) {
	m := New()
	m.Observe(upRun(), t1)
	m.Observe(report.Run{Command: report.CommandVerify, Project: "shop", Status: report.StatusFailed, Services: []report.Service{
		{Service: "db", Strategy: "dump", Status: report.StatusOK},
		{Service: "files", Strategy: "volumes", Status: report.StatusFailed},
		{Service: "cache", Status: report.StatusSkipped},
	}}, t2)
	got := parse(t, text(t, m))
	want(t, got, map[string]float64{
		"docker_backup_verify_last_success_timestamp_seconds{project=shop,service=db}":     float64(t2.Unix()),
		"docker_backup_verify_last_status{project=shop,service=files,status=failed}":       1,
		"docker_backup_verify_last_success_timestamp_seconds{project=shop,service=files}":  absent,
		"docker_backup_verify_last_run_timestamp_seconds{project=shop,service=cache}":      absent,
		"docker_backup_last_success_timestamp_seconds{project=shop,service=db}":            float64(t1.Unix()),
		"docker_backup_last_run_timestamp_seconds{project=shop,service=db}":                float64(t1.Unix()),
		"docker_backup_command_last_run_status{command=verify,project=shop,status=failed}": 1,
	})
}

// A copy's repositories get copy series, never a service's; its standing its own.
func TestObserveCopy(t *testing.T) {
	m := New()
	m.Observe(report.Run{Command: report.CommandCopy, Project: "shop", Status: report.StatusFailed, Services: []report.Service{
		{Service: "offsite", Strategy: "copy", Status: report.StatusFailed, Error: "unreachable"},
		{Service: "disk", Strategy: "copy", Status: report.StatusOK},
	}}, t2)
	m.ObserveCopy("shop", "disk", t1, 90*time.Second, 2)
	got := parse(t, text(t, m))
	want(t, got, map[string]float64{
		"docker_backup_copy_last_run_status{copy=offsite,project=shop,status=failed}":    1,
		"docker_backup_copy_last_success_timestamp_seconds{copy=offsite,project=shop}":   absent,
		"docker_backup_copy_last_success_timestamp_seconds{copy=disk,project=shop}":      float64(t2.Unix()),
		"docker_backup_copy_last_run_timestamp_seconds{copy=disk,project=shop}":          float64(t2.Unix()),
		"docker_backup_copy_newest_snapshot_timestamp_seconds{copy=disk,project=shop}":   float64(t1.Unix()),
		"docker_backup_copy_lag_seconds{copy=disk,project=shop}":                         90,
		"docker_backup_copy_behind_snapshots{copy=disk,project=shop}":                    2,
		"docker_backup_command_last_run_status{command=copy,project=shop,status=failed}": 1,
		"docker_backup_last_run_timestamp_seconds{project=shop,service=offsite}":         absent,
	})
}

// TestLoadFileCarriesForward is --metrics-file across processes: the second up backs
// up db alone, and fails; the file keeps db's last success and files' series.
func TestLoadFileCarriesForward(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.prom")
	m, err := LoadFile(path)
	if err != nil {
		t.Fatalf("a missing file: %v, want none", err)
	}
	m.Observe(upRun(), t1)
	m.Observe(report.Run{Command: "check", Project: "shop", Status: report.StatusOK}, t1)
	m.ObserveRepository("shop", 3, 1000)
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}

	m, err = LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	failed := report.Run{Command: "up", Project: "shop", Status: report.StatusFailed, Services: []report.Service{
		{Service: "db", Strategy: "dump", Status: report.StatusFailed, Error: "dump exited 1"},
	}}
	m.Observe(failed, t2)
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, b)
	want(t, got, map[string]float64{
		"docker_backup_last_success_timestamp_seconds{project=shop,service=db}":            float64(t1.Unix()),
		"docker_backup_last_run_timestamp_seconds{project=shop,service=db}":                float64(t2.Unix()),
		"docker_backup_last_run_status{project=shop,service=db,status=failed}":             1,
		"docker_backup_last_run_status{project=shop,service=db,status=ok}":                 0,
		"docker_backup_last_success_timestamp_seconds{project=shop,service=files}":         float64(t1.Unix()),
		"docker_backup_last_run_status{project=shop,service=files,status=warning}":         1,
		"docker_backup_last_run_files{project=shop,service=files}":                         120,
		"docker_backup_command_last_success_timestamp_seconds{command=check,project=shop}": float64(t1.Unix()),
		"docker_backup_command_last_success_timestamp_seconds{command=up,project=shop}":    float64(t1.Unix()),
		"docker_backup_repository_snapshots{project=shop}":                                 3,
	})
}

func TestReadSkipsWhatIsNotOurs(t *testing.T) {
	m := New()
	in := `# HELP node_load1 not ours
# TYPE node_load1 gauge
node_load1 0.5
# TYPE docker_backup_last_run_files gauge
docker_backup_last_run_files{project="shop",service="db"} 1
docker_backup_last_run_files{project="shop",service="db",machine="old"} 7
`
	if err := m.Read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	got := parse(t, text(t, m))
	if len(got) != 1 || got["docker_backup_last_run_files{project=shop,service=db}"] != 1 {
		t.Errorf("read %v, want only the one series of ours with its family's labels", got)
	}
}

func TestLoadFileUnparsable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.prom")
	if err := os.WriteFile(path, []byte("docker_backup_last_run_files{project=\"shop\" 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s", err, path)
	}
	if m == nil || len(parse(t, text(t, m))) != 0 {
		t.Error("want empty, usable metrics along with the error")
	}
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.prom")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := New()
	m.Observe(upRun(), t1)
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "shop.prom" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want shop.prom alone (no temporary file left)", names)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (node_exporter may run as another user)", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if len(parse(t, b)) == 0 {
		t.Error("the file holds no series")
	}

	// A folder that does not exist: an error, and nothing left behind.
	if err := m.WriteFile(filepath.Join(dir, "missing", "shop.prom")); err == nil {
		t.Error("writing into a missing folder: no error")
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.Heartbeat("shop", t1)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	got := parse(t, rec.Body.Bytes())
	want(t, got, map[string]float64{"docker_backup_scheduler_heartbeat_timestamp_seconds{project=shop}": float64(t1.Unix())})
	if _, ok := got["go_goroutines{}"]; ok || len(got) != 1 {
		t.Errorf("served %v, want our one series (own registry, no Go runtime metrics)", got)
	}
}
