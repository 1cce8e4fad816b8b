package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/docker-backup/docker-backup/internal/atomicfile"
)

// Handler serves the metrics in Prometheus's exposition formats (for the scheduler's
// listen address, x-backup.metrics.listen).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// WriteText writes the metrics in Prometheus's text format.
func (m *Metrics) WriteText(w io.Writer) error {
	families, err := m.reg.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("writing metric %s: %w", f.GetName(), err)
		}
	}
	return nil
}

// WriteFile writes the metrics to path in the text format, atomically: node_exporter's
// textfile collector, reading at any moment, sees the old file or the new one, never a
// part. The temporary file is in the same folder and its name does not end in .prom
// (atomicfile.IsTemp), so the collector never reads it.
func (m *Metrics) WriteFile(path string) error {
	var buf bytes.Buffer
	if err := m.WriteText(&buf); err != nil {
		return err
	}
	// 0644: the collector may run as another user.
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing metrics file %s: %w", path, err)
	}
	return nil
}

// LoadFile returns metrics holding the series of an earlier file at path, so that a
// command run as its own process keeps what earlier ones recorded: the last success of
// a service whose latest backup failed, the services not backed up this time, the
// other commands. A missing file is no error. On an error the metrics returned are
// empty, still usable.
func LoadFile(path string) (*Metrics, error) {
	m := New()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("reading metrics file: %w", err)
	}
	defer f.Close()
	if err := m.Read(f); err != nil {
		return New(), fmt.Errorf("reading metrics file %s: %w", path, err)
	}
	return m, nil
}

// Read takes the series of ours from metrics in the text format; unknown families, and
// series whose labels are not those of their family (an older version's), are left out.
func (m *Metrics) Read(r io.Reader) error {
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return fmt.Errorf("parsing: %w", err)
	}
	for name, f := range families {
		g, ok := m.gauges[name]
		if !ok {
			continue
		}
		for _, s := range f.GetMetric() {
			v, ok := value(s)
			if !ok {
				continue
			}
			l := prometheus.Labels{}
			for _, lp := range s.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if gauge, err := g.GetMetricWith(l); err == nil {
				gauge.Set(v)
			}
		}
	}
	return nil
}

// value is a series' value, as a gauge or untyped (the text format's default).
func value(s *dto.Metric) (float64, bool) {
	switch {
	case s.Gauge != nil:
		return s.Gauge.GetValue(), true
	case s.Untyped != nil:
		return s.Untyped.GetValue(), true
	}
	return 0, false
}
