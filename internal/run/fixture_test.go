package run

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/snapshot"
)

// fixture is a project shop on machine m1 of the fake engine, whose helpers run the
// fake restic and whose anchors read their input to the end.
type fixture struct {
	t   *testing.T
	eng *enginetest.Engine
	rst *enginetest.Restic

	mu       sync.Mutex
	warnings []string
	// onWarn, if set, sees each warning as it is given (synchronously).
	onWarn func(string)
}

var shop = snapshot.Identity{Project: "shop", Machine: "m1"}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, eng: enginetest.New(t), rst: enginetest.NewRestic()}
	f.eng.Program = func(p *enginetest.Process) int {
		if p.Config.Labels[helper.LabelKind] == helper.KindAnchor {
			return enginetest.Cat(p)
		}
		return f.rst.Program(p)
	}
	return f
}

func (f *fixture) warn(msg string) {
	f.mu.Lock()
	f.warnings = append(f.warnings, msg)
	on := f.onWarn
	f.mu.Unlock()
	if on != nil {
		on(msg)
	}
}

// warned returns the warnings that contain s.
func (f *fixture) warned(s string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, w := range f.warnings {
		if strings.Contains(w, s) {
			out = append(out, w)
		}
	}
	return out
}

func (f *fixture) runner() *helper.Runner {
	return &helper.Runner{API: f.eng, Image: "restic/restic:test", Project: "shop",
		Repo: helper.Repo{URL: "/srv/backups", Local: true, Password: []byte("hunter2")}}
}

// options are those of `up` on the local repository /srv/backups, failing at once when
// another run holds the project.
func (f *fixture) options() Options {
	return Options{
		API: f.eng, Identity: shop, Runner: f.runner(),
		Command: "up", Client: "ann@laptop pid 7", AnchorImage: "busybox",
		Wait: 0, InitLocal: true, RepoDisplay: "/srv/backups", Warn: f.warn,
	}
}

// begin begins a run that ends with the test.
func (f *fixture) begin(o Options) *Run {
	f.t.Helper()
	r, err := Begin(context.Background(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { r.End(context.Background()) })
	return r
}

// newRun is a run with a known ID that holds no anchor, for the steps of Begin alone.
func (f *fixture) newRun(id string) *Run {
	runner := f.runner()
	runner.RunID = id
	return &Run{ID: id, Identity: shop, API: f.eng, Runner: runner, warn: f.warn}
}

// helperLabels are the labels of a helper of run id.
func helperLabels(id, service, kind string) map[string]string {
	l := map[string]string{helper.LabelHelper: "true", helper.LabelProject: "shop", helper.LabelKind: kind, helper.LabelService: service}
	if id != "" {
		l[helper.LabelRun] = id
	}
	return l
}
