package metrics

import (
	"net"
	"regexp"
	"strconv"
)

// Config is x-backup.metrics: where the scheduler serves the project's Prometheus
// metrics (GET /metrics). `up --metrics-file` needs none of it.
type Config struct {
	// Listen is the address the endpoint listens on: host:port, an empty host meaning
	// every interface (":9187").
	Listen string `json:"listen" mapstructure:"listen"`
}

// listenHostRE is a host name of a listen address (an IP address is checked apart).
var listenHostRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$`)

// Check says what is wrong with the listen address, in the words of a configuration
// message, or "". The schema has checked its form; the port's range and the host are
// checked here.
func (c Config) Check() string {
	host, port, err := net.SplitHostPort(c.Listen)
	msg := ""
	switch n, perr := strconv.Atoi(port); {
	case err != nil:
		msg = "is not host:port"
	case perr != nil || n < 1 || n > 65535:
		msg = "has no port from 1 to 65535"
	case host != "" && net.ParseIP(host) == nil && !listenHostRE.MatchString(host):
		msg = "has no valid host name or IP address"
	default:
		return ""
	}
	return strconv.Quote(c.Listen) + " " + msg + " (want host:port, e.g. 127.0.0.1:9187 or :9187)"
}
