package plugin

import (
	"sync"
	"time"
)

// throttle lets a progress line through at most once per interval and key (a service),
// for every reporter of up and restore. Its zero value needs every set.
type throttle struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

// due reports whether key may report now, and if so starts its next interval.
func (t *throttle) due(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	if time.Since(t.last[key]) < t.every {
		return false
	}
	t.last[key] = time.Now()
	return true
}
