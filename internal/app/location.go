package app

import (
	"net/url"
	"path/filepath"
	"strings"
)

// LocateEndpoint tells a local endpoint from a remote one by its scheme. A socket
// (unix://, npipe://, fd://) is on this machine; tcp:// is remote even on a loopback
// address (an ssh tunnel, a VM's forwarded port), and so are ssh:// and anything else.
func LocateEndpoint(host string) Location {
	loc := Location{Endpoint: maskEndpoint(host)}
	scheme, _, _ := strings.Cut(host, "://")
	switch strings.ToLower(scheme) {
	case "unix":
		if p := host[len("unix://"):]; filepath.IsAbs(p) {
			loc.Socket = filepath.Clean(p)
		}
	case "npipe", "fd":
	default:
		loc.Remote = true
	}
	return loc
}

// maskEndpoint hides a password in an endpoint's user information.
func maskEndpoint(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.User == nil {
		return host
	}
	if _, ok := u.User.Password(); !ok {
		return host
	}
	u.User = url.UserPassword(u.User.Username(), "***")
	return strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
}
