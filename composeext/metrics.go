package composeext

import (
	"net"
	"regexp"
	"strconv"
)

// metricsKeys are the keys of x-backup.metrics.
var metricsKeys = []string{"listen"}

// Metrics is x-backup.metrics: where the scheduler serves the project's Prometheus
// metrics (GET /metrics). `up --metrics-file` needs none of it.
type Metrics struct {
	// Listen is the address the endpoint listens on: host:port, an empty host meaning
	// every interface (":9187").
	Listen string `json:"listen"`
}

// listenHostRE is a host name of a listen address (an IP address is checked apart).
var listenHostRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$`)

// metrics reads x-backup.metrics; nil when it is wrong (the problem is recorded).
func (d *decoder) metrics(path string, v any) *Metrics {
	m, ok := d.fields(path, v, metricsKeys, "a mapping with listen: host:port")
	if !ok {
		return nil
	}
	raw, ok := m["listen"]
	if !ok {
		d.probs.addf(path+".listen", "missing (want host:port, e.g. 127.0.0.1:9187 or :9187)")
		return nil
	}
	s, ok := d.str(path+".listen", raw)
	if !ok {
		return nil
	}
	if msg := checkListen(s); msg != "" {
		d.probs.addf(path+".listen", "%q %s (want host:port, e.g. 127.0.0.1:9187 or :9187)", s, msg)
		return nil
	}
	return &Metrics{Listen: s}
}

// checkListen says what is wrong with a listen address, or "".
func checkListen(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "is not host:port"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "has no port from 1 to 65535"
	}
	if host != "" && net.ParseIP(host) == nil && !listenHostRE.MatchString(host) {
		return "has no valid host name or IP address"
	}
	return ""
}
