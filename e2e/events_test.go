//go:build e2e

package e2e

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventRecorder keeps, live, the engine's container events that pass its filters, from
// the moment it starts. A test asks it, not `docker events --since … --until …`: the
// engine keeps only its last 256 events for such a query, which the tests running beside
// it push out within seconds.
type eventRecorder struct {
	mu  sync.Mutex
	evs []containerEvent
}

// containerEvent is one engine event of a container.
type containerEvent struct {
	at                       time.Time
	id                       string
	action, exitCode, signal string
	// image is the container's image (the event's From).
	image string
}

// recordContainerEvents starts recording the container events that pass the filters
// ("key=value", as for docker events) until the test ends.
func recordContainerEvents(t *testing.T, filters ...string) *eventRecorder {
	t.Helper()
	sc, _ := dockerEvents(t, "{{.TimeNano}}|{{.ID}}|{{.Action}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.signal}}|{{.From}}",
		append([]string{"type=container"}, filters...)...)
	r := &eventRecorder{}
	go func() {
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), "|", 6)
			for len(f) < 6 {
				f = append(f, "")
			}
			nanos, _ := strconv.ParseInt(f[0], 10, 64)
			ev := containerEvent{at: time.Unix(0, nanos), id: f[1], action: f[2], exitCode: f[3], signal: f[4], image: f[5]}
			r.mu.Lock()
			r.evs = append(r.evs, ev)
			r.mu.Unlock()
		}
	}()
	return r
}

// of returns the recorded events of the container id (full or short) from since until
// until (the zero time: no end), in the engine's order.
func (r *eventRecorder) of(id string, since, until time.Time) []containerEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []containerEvent
	for _, ev := range r.evs {
		if id != "" && !strings.HasPrefix(ev.id, id) {
			continue
		}
		if ev.at.Before(since) || (!until.IsZero() && ev.at.After(until)) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// actions is the actions of events, in order.
func actions(evs []containerEvent) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, ev.action)
	}
	return out
}
