// Package metrics turns how docker-backup's commands ended (package report) into
// Prometheus metrics: a text file for node_exporter's textfile collector (`up
// --metrics-file`), or an HTTP handler for the scheduler. Every series is a gauge with
// the label project; docs/metrics.md lists them.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/docker-backup/docker-backup/internal/report"
)

// The statuses of a *_status state set: one series each, 1 for the last run's, 0 for
// the others.
var statuses = []report.Status{report.StatusOK, report.StatusWarning, report.StatusFailed, report.StatusInterrupted}

// Metrics holds the series of one or more projects in a registry of its own (never
// Prometheus's global one). It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	// gauges are every family by name, for carrying an earlier file's series forward.
	gauges map[string]*prometheus.GaugeVec

	lastRun, lastDuration, lastStatus, lastSuccess, bytesAdded, files *prometheus.GaugeVec
	cmdRun, cmdDuration, cmdStatus, cmdSuccess                        *prometheus.GaugeVec
	snapshots, size, heartbeat                                        *prometheus.GaugeVec
	verifyRun, verifyStatus, verifySuccess                            *prometheus.GaugeVec
	copyRun, copyStatus, copySuccess, copyNewest, copyLag, copyBehind *prometheus.GaugeVec
}

// New returns metrics with no series yet.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), gauges: map[string]*prometheus.GaugeVec{}}
	svc := []string{"project", "service"}
	cmd := []string{"project", "command"}
	prj := []string{"project"}
	m.lastRun = m.gauge("docker_backup_last_run_timestamp_seconds", "Unix time at which the service's last backup ended, whatever its outcome.", svc)
	m.lastDuration = m.gauge("docker_backup_last_run_duration_seconds", "How long the service's last backup took, hooks included.", svc)
	m.lastStatus = m.gauge("docker_backup_last_run_status", "How the service's last backup ended: 1 for its status (ok, warning, failed, interrupted), 0 for the others.", append(svc, "status"))
	m.lastSuccess = m.gauge("docker_backup_last_success_timestamp_seconds", "Unix time at which the service's last backup that made a snapshot (status ok or warning) ended.", svc)
	m.bytesAdded = m.gauge("docker_backup_last_run_bytes_added", "Bytes the service's last backup added to the repository, after deduplication (restic's data_added).", svc)
	m.files = m.gauge("docker_backup_last_run_files", "Files the service's last backup read (restic's total_files_processed; 1 for a dump).", svc)
	m.cmdRun = m.gauge("docker_backup_command_last_run_timestamp_seconds", "Unix time at which the command's last run (up, check, prune) ended, whatever its outcome.", cmd)
	m.cmdDuration = m.gauge("docker_backup_command_last_run_duration_seconds", "How long the command's last run took.", cmd)
	m.cmdStatus = m.gauge("docker_backup_command_last_run_status", "How the command's last run ended: 1 for its status (ok, warning, failed, interrupted), 0 for the others. up is failed when it or any service failed.", append(cmd, "status"))
	m.cmdSuccess = m.gauge("docker_backup_command_last_success_timestamp_seconds", "Unix time at which the command's last run that did not fail or stop early (status ok or warning) ended.", cmd)
	m.snapshots = m.gauge("docker_backup_repository_snapshots", "The project's snapshots in the repository, as the last up found them.", prj)
	m.size = m.gauge("docker_backup_repository_size_bytes", "Bytes the project's snapshots take in the repository, deduplicated and compressed (restic stats --mode raw-data), as the last up found them.", prj)
	m.verifyRun = m.gauge("docker_backup_verify_last_run_timestamp_seconds", "Unix time at which the service's last restore drill (docker backup verify) ended, whatever its outcome.", svc)
	m.verifyStatus = m.gauge("docker_backup_verify_last_status", "How the service's last restore drill ended: 1 for its status (ok, failed), 0 for the others.", append(svc, "status"))
	m.verifySuccess = m.gauge("docker_backup_verify_last_success_timestamp_seconds", "Unix time at which the service's last restore drill that passed ended: its backup was proven to restore.", svc)
	cp := []string{"project", "copy"}
	m.copyRun = m.gauge("docker_backup_copy_last_run_timestamp_seconds", "Unix time at which the last copy to the copy repository (x-backup.copies) ended, whatever its outcome.", cp)
	m.copyStatus = m.gauge("docker_backup_copy_last_run_status", "How the last copy to the copy repository ended: 1 for its status (ok, warning, failed, interrupted), 0 for the others.", append(cp, "status"))
	m.copySuccess = m.gauge("docker_backup_copy_last_success_timestamp_seconds", "Unix time at which the last copy to the copy repository that did not fail (status ok or warning) ended.", cp)
	m.copyNewest = m.gauge("docker_backup_copy_newest_snapshot_timestamp_seconds", "Unix time of the newest snapshot the copy repository holds of the project's series (a copied snapshot keeps its source's time), as last found.", cp)
	m.copyLag = m.gauge("docker_backup_copy_lag_seconds", "How far the copy repository lags the primary: the age of the oldest confirmed snapshot of the primary that the copy lacks and that is newer than the copy's newest of its series; 0 when it has them all.", cp)
	m.copyBehind = m.gauge("docker_backup_copy_behind_snapshots", "The primary's confirmed snapshots that the copy repository lacks and that are newer than its newest of their series.", cp)
	m.heartbeat = m.gauge("docker_backup_scheduler_heartbeat_timestamp_seconds", "Unix time at which the project's scheduler last said it is alive.", prj)
	return m
}

// gauge registers a gauge family.
func (m *Metrics) gauge(name, help string, labels []string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(g)
	m.gauges[name] = g
	return g
}

// Observe records how a command ended at time at (its end). For up, each service that
// was backed up gets its series (skipped ones none); a service that failed keeps its
// last success time. For verify, each service drilled gets its docker_backup_verify_*
// series instead, never a backup's. Every command gets its command series, so that an up that failed
// before any service (the repository could not be opened) shows too.
func (m *Metrics) Observe(run report.Run, at time.Time) {
	ts := unixSeconds(at)
	cmd := prometheus.Labels{"project": run.Project, "command": run.Command}
	m.cmdRun.With(cmd).Set(ts)
	m.cmdDuration.With(cmd).Set(run.Duration.Seconds())
	setStatus(m.cmdStatus, cmd, run.Status)
	if run.Status == report.StatusOK || run.Status == report.StatusWarning {
		m.cmdSuccess.With(cmd).Set(ts)
	}
	for _, s := range run.Services {
		if s.Status == report.StatusSkipped {
			continue
		}
		if run.Command == report.CommandCopy {
			// A copy's "services" are its copy repositories.
			l := prometheus.Labels{"project": run.Project, "copy": s.Service}
			m.copyRun.With(l).Set(ts)
			setStatus(m.copyStatus, l, s.Status)
			if s.Status == report.StatusOK || s.Status == report.StatusWarning {
				m.copySuccess.With(l).Set(ts)
			}
			continue
		}
		if run.Command == report.CommandVerify {
			l := prometheus.Labels{"project": run.Project, "service": s.Service}
			m.verifyRun.With(l).Set(ts)
			setStatus(m.verifyStatus, l, s.Status)
			if s.Status == report.StatusOK {
				m.verifySuccess.With(l).Set(ts)
			}
			continue
		}
		l := prometheus.Labels{"project": run.Project, "service": s.Service}
		m.lastRun.With(l).Set(ts)
		m.lastDuration.With(l).Set(s.Duration.Seconds())
		setStatus(m.lastStatus, l, s.Status)
		m.bytesAdded.With(l).Set(float64(s.BytesAdded))
		m.files.With(l).Set(float64(s.Files))
		if s.Status == report.StatusOK || s.Status == report.StatusWarning {
			m.lastSuccess.With(l).Set(ts)
		}
	}
}

// setStatus sets a state set: 1 for status, 0 for the other statuses.
func setStatus(g *prometheus.GaugeVec, l prometheus.Labels, status report.Status) {
	for _, s := range statuses {
		v := 0.0
		if s == status {
			v = 1
		}
		g.With(withLabel(l, "status", string(s))).Set(v)
	}
}

func withLabel(l prometheus.Labels, k, v string) prometheus.Labels {
	out := prometheus.Labels{k: v}
	for lk, lv := range l {
		out[lk] = lv
	}
	return out
}

// ObserveRepository records what a run found of the project's snapshots in the
// repository: how many, and the bytes they take there.
func (m *Metrics) ObserveRepository(project string, snapshots int, sizeBytes uint64) {
	l := prometheus.Labels{"project": project}
	m.snapshots.With(l).Set(float64(snapshots))
	m.size.With(l).Set(float64(sizeBytes))
}

// ObserveCopy records how the copy repository named copy stands against the primary
// (copies.Standing): the time of its newest snapshot (none: the series is left
// out), its lag and how many snapshots it lacks.
func (m *Metrics) ObserveCopy(project, copy string, newest time.Time, lag time.Duration, behind int) {
	l := prometheus.Labels{"project": project, "copy": copy}
	if !newest.IsZero() {
		m.copyNewest.With(l).Set(unixSeconds(newest))
	}
	m.copyLag.With(l).Set(lag.Seconds())
	m.copyBehind.With(l).Set(float64(behind))
}

// Heartbeat records that the project's scheduler was alive at t.
func (m *Metrics) Heartbeat(project string, t time.Time) {
	m.heartbeat.With(prometheus.Labels{"project": project}).Set(unixSeconds(t))
}

// unixSeconds is t as Prometheus timestamps are, to the millisecond.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }
