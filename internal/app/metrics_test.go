package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/run"
)

// readMetrics parses a metrics file into "name{v1,v2…}" (label values in the family's
// order) → value.
func readMetrics(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("the metrics file does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			var values []string
			for _, l := range m.GetLabel() {
				values = append(values, l.GetName()+"="+l.GetValue())
			}
			out[name+"{"+strings.Join(values, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

// wantSeries checks series' values.
func wantSeries(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
}

// up --metrics-file writes the run's series and the repository's, gathered with one
// restic stats of the project's snapshots within the run.
func TestUpMetricsFile(t *testing.T) {
	f, path := metricsFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	a := newAnchorRestic(f)
	if err := f.run("up", "--metrics-file", path); err != nil {
		t.Fatalf("up: %v\n%s", err, f.err.String())
	}
	got := readMetrics(t, path)
	wantSeries(t, got, map[string]float64{
		"docker_backup_last_run_status{project=shop,service=app,status=ok}":        1,
		"docker_backup_last_run_status{project=shop,service=app,status=failed}":    0,
		"docker_backup_last_run_bytes_added{project=shop,service=app}":             2048,
		"docker_backup_last_run_files{project=shop,service=app}":                   3,
		"docker_backup_command_last_run_status{command=up,project=shop,status=ok}": 1,
		"docker_backup_repository_snapshots{project=shop}":                         5,
		"docker_backup_repository_size_bytes{project=shop}":                        4096,
	})
	if got["docker_backup_last_success_timestamp_seconds{project=shop,service=app}"] == 0 {
		t.Errorf("no last success time for app: %v", got)
	}
	if stats := a.ran("stats"); len(stats) != 1 || !strings.Contains(stats[0], "--host shop@") {
		t.Errorf("restic ran %q, want one stats of the project's snapshots", stats)
	}
	if strings.Contains(f.out.String()+f.err.String(), "warning") {
		t.Errorf("a warning:\n%s%s", f.out.String(), f.err.String())
	}
}

// Without --metrics-file, up runs no restic stats.
func TestUpWithoutMetricsFileGathersNothing(t *testing.T) {
	f, _ := metricsFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	a := newAnchorRestic(f)
	if err := f.run("up"); err != nil {
		t.Fatalf("up: %v\n%s", err, f.err.String())
	}
	if stats := a.ran("stats"); len(stats) != 0 {
		t.Errorf("restic ran %q without --metrics-file", stats)
	}
}

// A repository whose statistics cannot be read is a warning: the backup stands, the
// file has the run's series and none of the repository's.
func TestUpMetricsFileWithoutStats(t *testing.T) {
	f, path := metricsFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	a := newAnchorRestic(f)
	a.replies["stats"] = enginetest.Reply{Stderr: "Fatal: unable to load index", Code: 1}
	if err := f.run("up", "--metrics-file", path); err != nil {
		t.Fatalf("up: %v, want success", err)
	}
	if all := f.out.String() + f.err.String(); !strings.Contains(all, "warning: metrics: the repository's snapshot count and size are left out") {
		t.Errorf("no warning about the statistics:\n%s", all)
	}
	got := readMetrics(t, path)
	wantSeries(t, got, map[string]float64{"docker_backup_last_run_status{project=shop,service=app,status=ok}": 1})
	if _, ok := got["docker_backup_repository_snapshots{project=shop}"]; ok {
		t.Errorf("repository series without statistics: %v", got)
	}
}

// A metrics file that cannot be written is one warning line; up's outcome stays.
func TestUpMetricsFileNotWritable(t *testing.T) {
	f, path := metricsFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	newAnchorRestic(f)
	path = filepath.Join(filepath.Dir(path), "missing", "shop.prom")
	if err := f.run("up", "--metrics-file", path); err != nil {
		t.Fatalf("up: %v, want success", err)
	}
	var warnings []string
	for _, l := range strings.Split(f.err.String(), "\n") {
		if strings.HasPrefix(l, "warning: metrics:") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], path) {
		t.Errorf("stderr %q, want one warning naming %s", f.err.String(), path)
	}
}

// An up that fails before any service (no repository) shows as a failed up command;
// its error and exit code are as without the file.
func TestUpMetricsFileFailedCommand(t *testing.T) {
	f, path := metricsFixture(t)
	f.eng.HostPaths = map[string]bool{}
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	err := f.run("up", "--metrics-file", path)
	var noRepo *run.ErrNoRepository
	if !errors.As(err, &noRepo) {
		t.Fatalf("err %v, want the missing repository", err)
	}
	got := readMetrics(t, path)
	wantSeries(t, got, map[string]float64{
		"docker_backup_command_last_run_status{command=up,project=shop,status=failed}": 1,
		"docker_backup_command_last_run_status{command=up,project=shop,status=ok}":     0,
	})
	for s := range got {
		if strings.Contains(s, "service=") || strings.Contains(s, "last_success") {
			t.Errorf("series %s after an up that backed nothing up", s)
		}
	}
}

// check --metrics-file adds the check's series to the file; a failed check keeps the
// last successful one's time, and the up's series stay.
func TestCheckMetricsFile(t *testing.T) {
	f, path := metricsFixture(t)
	f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "app", true))
	newAnchorRestic(f)
	if err := f.run("up", "--metrics-file", path); err != nil {
		t.Fatalf("up: %v\n%s", err, f.err.String())
	}
	if err := f.run("check", "--metrics-file", path); err != nil {
		t.Fatalf("check: %v\n%s", err, f.err.String())
	}
	got := readMetrics(t, path)
	wantSeries(t, got, map[string]float64{
		"docker_backup_command_last_run_status{command=check,project=shop,status=ok}": 1,
		"docker_backup_command_last_run_status{command=up,project=shop,status=ok}":    1,
		"docker_backup_last_run_status{project=shop,service=app,status=ok}":           1,
	})
	success := got["docker_backup_command_last_success_timestamp_seconds{command=check,project=shop}"]
	if success == 0 {
		t.Fatalf("no last success of check: %v", got)
	}

	f.rst.Reply("check", enginetest.Reply{Stderr: "Fatal: repository contains errors", Code: 1})
	if err := f.run("check", "--metrics-file", path); err == nil {
		t.Fatal("check of a damaged repository: no error")
	}
	got = readMetrics(t, path)
	wantSeries(t, got, map[string]float64{
		"docker_backup_command_last_run_status{command=check,project=shop,status=failed}":  1,
		"docker_backup_command_last_run_status{command=check,project=shop,status=ok}":      0,
		"docker_backup_command_last_success_timestamp_seconds{command=check,project=shop}": success,
		"docker_backup_last_run_status{project=shop,service=app,status=ok}":                1,
	})
}

// forget --prune --metrics-file records the prune; a failed prune keeps the last
// successful one's time.
func TestPruneMetricsFile(t *testing.T) {
	f, path := metricsFixture(t)
	compose, err := os.ReadFile(filepath.Join(f.dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withRetention := strings.Replace(string(compose), "x-backup:\n", "x-backup:\n  retention: {keep_last: 3}\n", 1)
	if err := os.WriteFile(filepath.Join(f.dir, "compose.yaml"), []byte(withRetention), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newAnchorRestic(f)
	if err := f.run("forget", "--prune", "--metrics-file", path); err != nil {
		t.Fatalf("forget --prune: %v\n%s", err, f.err.String())
	}
	if len(a.ran("prune")) != 1 {
		t.Fatalf("restic ran %q, want one prune", a.argv)
	}
	got := readMetrics(t, path)
	wantSeries(t, got, map[string]float64{"docker_backup_command_last_run_status{command=prune,project=shop,status=ok}": 1})
	success := got["docker_backup_command_last_success_timestamp_seconds{command=prune,project=shop}"]

	a.replies["prune"] = enginetest.Reply{Stderr: "Fatal: unable to create lock", Code: 1}
	if err := f.run("forget", "--prune", "--metrics-file", path); err == nil {
		t.Fatal("a failed prune: no error")
	}
	wantSeries(t, readMetrics(t, path), map[string]float64{
		"docker_backup_command_last_run_status{command=prune,project=shop,status=failed}":  1,
		"docker_backup_command_last_success_timestamp_seconds{command=prune,project=shop}": success,
	})

	// forget alone, or a dry run, prunes nothing and records nothing.
	before, _ := os.ReadFile(path)
	for _, args := range [][]string{{"forget"}, {"forget", "--prune", "--dry-run"}} {
		if err := f.run(append(args, "--metrics-file", path)...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("forget without a prune changed the metrics file")
	}
}
