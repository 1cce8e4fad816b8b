package notify

import (
	"fmt"
	"strings"
)

// Describe shows a masked target for plan: "https://hooks.example.com/*** (webhook) on
// failure, warning".
func (t Target) Describe() string {
	on := make([]string, len(t.On))
	for i, e := range t.On {
		on[i] = string(e)
	}
	return fmt.Sprintf("%s (%s) on %s", t.Display, t.Service, strings.Join(on, ", "))
}

// Describe shows a masked healthcheck's pings for plan: "start https://hc-ping.com/***,
// success …"; "" for none.
func (h *Healthcheck) Describe() string {
	if h == nil {
		return ""
	}
	var parts []string
	for _, p := range []struct {
		name string
		ping *Ping
	}{{"start", h.Start}, {"success", h.Success}, {"failure", h.Failure}} {
		if p.ping != nil {
			parts = append(parts, p.name+" "+p.ping.Display)
		}
	}
	return strings.Join(parts, ", ")
}
