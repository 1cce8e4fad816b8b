package plugin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsCompose interpolates a notify URL, a healthcheck and a service's password, as
// the README's examples do.
const secretsCompose = `
x-backup:
  schedule: "0 3 * * *"
  notify: ["${SLACK_URL}"]
  healthcheck: https://hc-ping.com/${HC_UUID}
services:
  db:
    image: postgres:${PG_TAG:-16}
    environment: {POSTGRES_PASSWORD: "${PG_PW}"}
    x-backup: {dump: pg_dumpall}
`

// --print writes no value of a variable that feeds a secret, whatever its name: with
// none in .env it says in one line what to provide; with them in .env it says in the
// file that the scheduler reads them there, and warns of nothing.
func TestSchedulePrintWithholdsSecrets(t *testing.T) {
	values := []string{"https://hooks.example.com/T01/B02/abcdefghijkl", "0b9a4a4e-9d3c-4c62-8a0f-1f4f2b7c1e55", "pg-pw-0451"}
	environ := []string{"SLACK_URL=" + values[0], "HC_UUID=" + values[1], "PG_PW=" + values[2], "PG_TAG=16.4"}
	for _, inDotEnv := range []bool{false, true} {
		t.Run(map[bool]string{false: "environment", true: ".env"}[inDotEnv], func(t *testing.T) {
			f := newScheduleFixture(t, environ...)
			dir := writeCompose(t, secretsCompose)
			if inDotEnv {
				if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(strings.Join(environ[:3], "\n")+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := runApp(context.Background(), []string{"--project-directory", dir, "-p", "shop", "schedule", "--print"}, f.d); err != nil {
				t.Fatalf("%v\n%s", err, f.err.String())
			}
			for _, v := range values {
				if strings.Contains(f.out.String(), v) || strings.Contains(f.err.String(), v) {
					t.Errorf("the value %q is printed:\n%s\n%s", v, f.out.String(), f.err.String())
				}
			}
			if !strings.Contains(f.out.String(), `PG_TAG: "16.4"`) {
				t.Errorf("PG_TAG is not carried:\n%s", f.out.String())
			}
			dotEnv := filepath.Join(dir, ".env")
			if inDotEnv {
				want := "# Secrets it reads from " + dotEnv + " itself, never written here: HC_UUID, PG_PW, SLACK_URL."
				if !strings.Contains(f.out.String(), want) || f.err.Len() > 0 {
					t.Errorf("want %q in the file and no warning:\n%s\n%s", want, f.out.String(), f.err.String())
				}
				return
			}
			want := "warning: the compose files use HC_UUID (x-backup.healthcheck), PG_PW (services.db.environment.POSTGRES_PASSWORD), " +
				"SLACK_URL (x-backup.notify[0]), set here and not written into the file (secrets): put them in " + dotEnv + ", which the scheduler reads\n"
			if f.err.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", f.err.String(), want)
			}
		})
	}
}
