package plugin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/snapshot"
)

// Answering no at the prompt is an answer, not a failure: exit 0, one line on stderr,
// and nothing restored, stopped or begun.
func TestRestoreDeclinedAtThePromptExitsZero(t *testing.T) {
	dir := t.TempDir()
	compose := "services:\n  db:\n    image: postgres\n    x-backup: postgres\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o600); err != nil {
		t.Fatal(err)
	}
	eng, rst := enginetest.New(t), enginetest.NewRestic()
	eng.Program = rst.Program
	rst.Reply("snapshots", enginetest.Reply{Stdout: `[{"id":"aaaa1111","short_id":"aaaa1111","time":"2026-01-10T10:00:00Z",` +
		`"hostname":"shop@m1","paths":["/db.sql"],"tags":["project=shop","service=db","strategy=dump"]}]`})
	var out, errOut bytes.Buffer
	opts := &restoreOptions{
		load:        composeext.LoadOptions{WorkingDir: dir, ProjectName: "shop"},
		args:        []string{"db"},
		interactive: func() bool { return true },
		connect: func(context.Context, *deps, *composeext.Plan) (*session, error) {
			return &session{api: eng, identity: snapshot.Identity{Project: "shop", Machine: "m1"}, runner: &helper.Runner{
				API: eng, Image: "restic", Project: "shop", Repo: helper.Repo{URL: "/repo", Local: true, Password: []byte("pw")}}}, nil
		},
		d: &deps{streams: Streams{In: strings.NewReader("n\n"), Out: &out, Err: &errOut}},
	}
	err := runRestore(context.Background(), opts)
	if code := exitCode(context.Background(), err); code != ExitOK {
		t.Fatalf("err %v, exit %d; want 0", err, code)
	}
	if !strings.Contains(errOut.String(), "restore cancelled: nothing was changed") {
		t.Errorf("stderr %q, want it to say that nothing was changed", errOut.String())
	}
	if calls := rst.Calls(); len(calls) != 1 || calls[0].Command() != "snapshots" {
		t.Errorf("restic ran %v, want only the snapshot listing before the question", rst.Commands())
	}
	for _, c := range eng.Created() {
		if c.Config.Labels[helper.LabelKind] == helper.KindAnchor {
			t.Errorf("a run began although the answer was no")
		}
	}
}

// A password command that fails is a configuration problem, like an unreadable
// password file: exit code 2.
func TestFailingPasswordCommandIsAConfigurationError(t *testing.T) {
	plan := &composeext.Plan{Repository: composeext.Repository{URL: "s3:x", PasswordCommand: []string{"sh", "-c", "echo no >&2; exit 3"}}}
	_, err := repository(context.Background(), plan, &bytes.Buffer{})
	if code := exitCode(context.Background(), err); code != ExitUsage || !strings.Contains(err.Error(), "password command") {
		t.Errorf("err %v, exit %d; want exit 2 naming the password command", err, code)
	}
}
