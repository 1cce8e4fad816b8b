package plugin

import (
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// Answering no at the prompt is an answer, not a failure: exit 0, one line on stderr,
// and nothing restored, stopped or begun.
func TestRestoreDeclinedAtThePromptExitsZero(t *testing.T) {
	f, _ := metricsFixture(t)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: `[{"id":"aaaa1111","short_id":"aaaa1111","time":"2026-01-10T10:00:00Z",` +
		`"hostname":"shop@prod","paths":["/backup/app/app"],"tags":["project=shop","service=app","strategy=volumes"]}]`})
	f.d.streams.In = strings.NewReader("n\n")
	opts := &restoreOptions{
		restore:     app.RestoreOptions{Load: composeext.LoadOptions{WorkingDir: f.dir, Environ: f.d.environ, RemoteEngine: remoteEndpoint}},
		args:        []string{"app"},
		interactive: func() bool { return true },
		d:           f.d,
	}
	err := runRestore(context.Background(), opts)
	if code := exitCode(context.Background(), err); code != ExitOK {
		t.Fatalf("err %v, exit %d; want 0\n%s", err, code, f.err.String())
	}
	if !strings.Contains(f.err.String(), "restore cancelled: nothing was changed") {
		t.Errorf("stderr %q, want it to say that nothing was changed", f.err.String())
	}
	if calls := f.rst.Calls(); len(calls) != 1 || calls[0].Command() != "snapshots" {
		t.Errorf("restic ran %v, want only the snapshot listing before the question", f.rst.Commands())
	}
	for _, c := range f.eng.Created() {
		if c.Config.Labels[helper.LabelKind] == helper.KindAnchor {
			t.Errorf("a run began although the answer was no")
		}
	}
}
