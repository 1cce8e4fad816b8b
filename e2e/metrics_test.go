//go:build e2e

package e2e

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// promFile parses a metrics file as Prometheus's textfile collector would, into
// "name{label=value,…}" (labels sorted) → value.
func promFile(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the metrics file: %v", err)
	}
	defer f.Close()
	return promText(t, f)
}

// promText parses Prometheus text with client_golang's expfmt: series (name{labels},
// labels sorted) to values.
func promText(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	out := map[string]float64{}
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
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

// TestMetricsFile runs up --metrics-file twice on a project with a dump service (db)
// and a volumes service (files), then check --metrics-file: each run's file parses, holds
// the series, and the second up moves each service's last success forward.
func TestMetricsFile(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	p.seedNotes(t, 10, "note")
	p.exec(t, "files", "sh", "-c", "echo first > /srv/data/a.txt")
	repo, key := p.localRepo()
	dir := t.TempDir()
	path := filepath.Join(dir, p.name+".prom")
	svc := func(name, service string, status ...string) string {
		if len(status) > 0 {
			return name + "{project=" + p.name + ",service=" + service + ",status=" + status[0] + "}"
		}
		return name + "{project=" + p.name + ",service=" + service + "}"
	}
	prj := func(name string) string { return name + "{project=" + p.name + "}" }
	cmd := func(name, command string, status ...string) string {
		if len(status) > 0 {
			return name + "{command=" + command + ",project=" + p.name + ",status=" + status[0] + "}"
		}
		return name + "{command=" + command + ",project=" + p.name + "}"
	}

	p.mustBackup(t, "up", "--metrics-file", path)
	first := promFile(t, path)
	for _, s := range []string{"db", "files"} {
		for series, want := range map[string]float64{
			svc("docker_backup_last_run_status", s, "ok"):      1,
			svc("docker_backup_last_run_status", s, "warning"): 0,
			svc("docker_backup_last_run_status", s, "failed"):  0,
		} {
			if got, ok := first[series]; !ok || got != want {
				t.Errorf("first up: %s = %v (present %v), want %v", series, got, ok, want)
			}
		}
		for _, name := range []string{"docker_backup_last_success_timestamp_seconds", "docker_backup_last_run_timestamp_seconds", "docker_backup_last_run_files"} {
			if first[svc(name, s)] <= 0 {
				t.Errorf("first up: %s = %v, want > 0", svc(name, s), first[svc(name, s)])
			}
		}
		if _, ok := first[svc("docker_backup_last_run_bytes_added", s)]; !ok {
			t.Errorf("first up: no %s", svc("docker_backup_last_run_bytes_added", s))
		}
	}
	if _, ok := first[svc("docker_backup_last_run_timestamp_seconds", "cache")]; ok {
		t.Errorf("first up: a series for cache, which is declared stateless")
	}
	if first[cmd("docker_backup_command_last_run_status", "up", "ok")] != 1 {
		t.Errorf("first up: the up command is not ok: %v", first)
	}
	// The repository's series say what plain restic finds there.
	by := snapshotsByService(t, repo, key, nil)
	if n := len(by["db"]) + len(by["files"]); first[prj("docker_backup_repository_snapshots")] != float64(n) || n != 2 {
		t.Errorf("first up: repository snapshots %v, restic lists %d, want 2", first[prj("docker_backup_repository_snapshots")], n)
	}
	if first[prj("docker_backup_repository_size_bytes")] <= 0 {
		t.Errorf("first up: repository size %v, want > 0", first[prj("docker_backup_repository_size_bytes")])
	}

	p.sqlite(t, "INSERT INTO notes VALUES (100, 'second');")
	p.exec(t, "files", "sh", "-c", "echo second > /srv/data/b.txt")
	p.mustBackup(t, "up", "--metrics-file", path)
	second := promFile(t, path)
	for _, s := range []string{"db", "files"} {
		name := svc("docker_backup_last_success_timestamp_seconds", s)
		if second[name] <= first[name] {
			t.Errorf("second up: %s = %v, want later than the first up's %v", name, second[name], first[name])
		}
	}
	if got := second[prj("docker_backup_repository_snapshots")]; got != 4 {
		t.Errorf("second up: repository snapshots %v, want 4", got)
	}

	if text, err := os.ReadFile(path); err == nil {
		t.Logf("the metrics file after two runs:\n%s", text)
	}

	if r := p.backup(t, "check", "--metrics-file", path); r.code != 0 {
		t.Fatalf("check: %v", r)
	}
	checked := promFile(t, path)
	if checked[cmd("docker_backup_command_last_run_status", "check", "ok")] != 1 ||
		checked[cmd("docker_backup_command_last_success_timestamp_seconds", "check")] <= second[cmd("docker_backup_command_last_success_timestamp_seconds", "up")] {
		t.Errorf("after check: no ok check later than the up: %v", checked)
	}
	for _, s := range []string{"db", "files"} {
		name := svc("docker_backup_last_success_timestamp_seconds", s)
		if checked[name] != second[name] {
			t.Errorf("after check: %s = %v, want the second up's %v kept", name, checked[name], second[name])
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("the metrics folder holds %d entries, want the file alone (no temporary file left)", len(entries))
	}
	if fi, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o644 {
		t.Errorf("the metrics file has mode %v, want 0644", fi.Mode().Perm())
	}
}
