package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/metrics"
	"github.com/docker-backup/docker-backup/internal/report"
)

// scheduleMetrics are the scheduler's Prometheus metrics: kept in memory across its
// runs (from --metrics-file's earlier series at start), written to that file after each
// run and heartbeat, and served on x-backup.metrics.listen. Nil when neither is asked
// for; its methods then do nothing.
type scheduleMetrics struct {
	m       *metrics.Metrics
	path    string
	project string
	warn    func(string)
}

// newScheduleMetrics loads the file's earlier series, if a file is given.
func newScheduleMetrics(path string, plan *composeext.Plan, warn func(string)) *scheduleMetrics {
	if path == "" && (plan.Metrics == nil || plan.Metrics.Listen == "") {
		return nil
	}
	s := &scheduleMetrics{m: metrics.New(), path: path, project: plan.Project, warn: warn}
	if path != "" {
		m, err := metrics.LoadFile(path)
		if err != nil {
			warn(fmt.Sprintf("metrics: %v; its earlier series are dropped", err))
		}
		s.m = m
	}
	return s
}

// repository is what a scheduled up gathers of the repository for the metrics: nil
// (nothing gathered) without metrics.
func (s *scheduleMetrics) repository() *metricsFile {
	if s == nil {
		return nil
	}
	return &metricsFile{}
}

// record observes a run (and what it found of the repository) and writes the file.
func (s *scheduleMetrics) record(rep report.Run, repo *metricsFile) {
	if s == nil {
		return
	}
	s.m.Observe(rep, time.Now())
	if repo != nil && repo.repo.ok {
		s.m.ObserveRepository(rep.Project, repo.repo.snapshots, repo.repo.size)
	}
	s.m.Heartbeat(s.project, time.Now())
	s.write()
}

// heartbeat renews the scheduler's heartbeat series.
func (s *scheduleMetrics) heartbeat(now time.Time) {
	if s == nil {
		return
	}
	s.m.Heartbeat(s.project, now)
	s.write()
}

func (s *scheduleMetrics) write() {
	if s.path == "" {
		return
	}
	if err := s.m.WriteFile(s.path); err != nil {
		s.warn(fmt.Sprintf("metrics: %v", err))
	}
}

// serve listens on x-backup.metrics.listen and serves GET /metrics until ctx ends. A
// port it cannot listen on is an error at start, before any job runs.
func (s *scheduleMetrics) serve(ctx context.Context, plan *composeext.Plan) (stop func(), err error) {
	if s == nil || plan.Metrics == nil || plan.Metrics.Listen == "" {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", plan.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("x-backup.metrics.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.warn(fmt.Sprintf("metrics: serving %s: %v", plan.Metrics.Listen, err))
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
