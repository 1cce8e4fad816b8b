package app

import (
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

// up --dry-run shows restic's command as the backup builds it, without the engine.
func TestDryRunShowsTheBackupsArgv(t *testing.T) {
	dir := writeCompose(t, scheduleCompose)
	a := &App{Docker: func() (DockerAPI, error) { t.Fatal("the engine was contacted"); return nil, nil }}
	lines, err := a.DryRun(context.Background(), composeext.LoadOptions{WorkingDir: dir, ProjectName: "shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{
		"db: run helper: restic backup --json --host shop@<this machine> --tag project=shop --tag service=db --tag strategy=dump --stdin-from-command --stdin-filename ",
		"files: stop the service's containers",
		"files: run helper: restic backup --json --host shop@<this machine> --tag project=shop --tag service=files --tag strategy=volumes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
}
