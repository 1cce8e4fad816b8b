//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// sharedEngine is the second engine the remote tests share: the first test that needs
// one starts it, with every image those tests run loaded once; each test attaches a
// context and proxy of its own, so their byte counts stay apart; TestMain stops it
// (stopSharedEngine), also when tests failed.
var sharedEngine struct {
	mu      sync.Mutex
	started bool
	e       *secondEngine
	err     error
}

// sharedRemoteEngine returns the test's own view (context and proxy) of the shared
// second engine, starting the engine if no test has yet.
func sharedRemoteEngine(t *testing.T) *remoteEngine {
	t.Helper()
	se, err := startSharedEngine(t)
	if err != nil {
		t.Fatal(err)
	}
	return attachRemoteEngine(t, se)
}

// startSharedEngine starts the shared engine once; a start that failed fails every test
// that asks again, without a second try.
func startSharedEngine(t *testing.T) (*secondEngine, error) {
	t.Helper()
	sharedEngine.mu.Lock()
	defer sharedEngine.mu.Unlock()
	if !sharedEngine.started {
		sharedEngine.started = true
		start := time.Now()
		sharedEngine.e, sharedEngine.err = startSecondEngine(env.resticImage, env.resticBareImage, env.dbImage)
		if sharedEngine.err == nil {
			t.Logf("the shared second engine is up, %s, %s and %s loaded, in %s",
				env.resticImage, env.resticBareImage, env.dbImage, time.Since(start).Round(time.Millisecond))
		}
	}
	if sharedEngine.err != nil {
		return nil, fmt.Errorf("the shared second engine: %w", sharedEngine.err)
	}
	return sharedEngine.e, nil
}

// stopSharedEngine stops the shared engine, if a test started one, and checks that it
// left nothing behind (what TestRemoteEngineHarness checks of its view: context and
// proxy). It reports false when that failed.
func stopSharedEngine() bool {
	sharedEngine.mu.Lock()
	defer sharedEngine.mu.Unlock()
	if sharedEngine.e == nil {
		return true
	}
	r := &teardownReporter{}
	sharedEngine.e.Stop(r)
	checkEngineGone(r, sharedEngine.e)
	return !r.failed
}

// teardownReporter is the reporter of TestMain's teardown: it writes to stderr and
// remembers an error.
type teardownReporter struct{ failed bool }

func (*teardownReporter) Helper() {}

func (*teardownReporter) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e: shared second engine: "+format+"\n", args...)
}

func (r *teardownReporter) Errorf(format string, args ...any) {
	r.failed = true
	fmt.Fprintf(os.Stderr, "e2e: shared second engine: FAIL: "+format+"\n", args...)
}

func (r *teardownReporter) Failed() bool { return r.failed }
