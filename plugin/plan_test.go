package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

// writeCompose writes a compose file into a new folder and returns the folder.
func writeCompose(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const planCompose = `
services:
  db:
    image: postgres
    environment: {POSTGRES_PASSWORD: "${PG_PASSWORD}"}
    x-backup:
      dump: pg_dumpall -U postgres --password=${PG_PASSWORD}
  cache:
    image: redis
    volumes: [cache:/data]
volumes: {cache: {}}
`

func TestPlanText(t *testing.T) {
	dir := writeCompose(t, planCompose)
	var out, errOut bytes.Buffer
	err := runPlan(context.Background(), &planOptions{
		app:  plainEngine(t),
		load: composeext.LoadOptions{WorkingDir: dir, Environ: []string{"PG_PASSWORD=s3cr3t-value"}},
		out:  &out, errOut: &errOut,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"db  dump → /db.dump", "--password=***", "Unprotected data", "cache"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "s3cr3t-value") {
		t.Errorf("output shows a secret:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "warning: unprotected data: cache") {
		t.Errorf("stderr: want the unprotected warning, got %q", errOut.String())
	}
}

func TestPlanJSONStrict(t *testing.T) {
	dir := writeCompose(t, planCompose)
	var out bytes.Buffer
	err := runPlan(context.Background(), &planOptions{
		app:  plainEngine(t),
		load: composeext.LoadOptions{WorkingDir: dir, Environ: []string{"PG_PASSWORD=s3cr3t-value"}},
		json: true, strict: true, out: &out, errOut: &bytes.Buffer{},
	})
	var coded *exitCodeError
	if !errors.As(err, &coded) || coded.code != ExitFailure {
		t.Fatalf("--strict with unprotected data: got %v, want exit code %d", err, ExitFailure)
	}
	var plan composeext.Plan
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		t.Fatalf("--json output is not one JSON document: %v\n%s", err, out.String())
	}
	if len(plan.Services) != 1 || len(plan.Unprotected) != 1 || strings.Contains(out.String(), "s3cr3t-value") {
		t.Errorf("unexpected plan: %s", out.String())
	}
}

func TestPlanUnknownServiceIsUsageError(t *testing.T) {
	dir := writeCompose(t, planCompose)
	err := runPlan(context.Background(), &planOptions{
		app:      plainEngine(t),
		load:     composeext.LoadOptions{WorkingDir: dir},
		services: []string{"nope"},
		out:      &bytes.Buffer{}, errOut: &bytes.Buffer{},
	})
	if exitCode(context.Background(), err) != ExitUsage {
		t.Errorf("unknown service: got %v, want exit code %d", err, ExitUsage)
	}
}
