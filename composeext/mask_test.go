package composeext

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Mask hides the secrets' values, and the passwords of URLs and password=… pairs by
// their form alone, whatever their length: a DSN a dump prints on failure.
func TestMaskCredentials(t *testing.T) {
	plan := &Plan{Secrets: []string{"r00t-s3cret"}}
	for _, tc := range []struct{ in, want string }{
		{"mysqldump: access denied (r00t-s3cret)", "mysqldump: access denied (***)"},
		{"could not connect to postgres://app:pw@db/app: refused", "could not connect to postgres://app:***@db/app: refused"},
		{`dsn "mysql://root:p%40ss@tcp(db:3306)/shop"`, `dsn "mysql://root:***@tcp(db:3306)/shop"`},
		{"host=db user=app password=pw dbname=app", "host=db user=app password=*** dbname=app"},
		{"PGPASSWORD=x pg_dump", "PGPASSWORD=*** pg_dump"},
		{"MYSQL_PWD=x mysqldump in PWD=/srv/shop", "MYSQL_PWD=*** mysqldump in PWD=/srv/shop"},
		{"rest:https://u:secret@backup.example.com/shop", "rest:https://u:***@backup.example.com/shop"},
		{"https://user@example.com/x and a@b", "https://user@example.com/x and a@b"},
		{"--password-file=/run/key", "--password-file=/run/key"},
	} {
		if got := plan.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A container's environment adds its secret-looking values and the passwords of the
// URLs any variable holds; plain values stay visible.
func TestAddSecretEnv(t *testing.T) {
	plan := &Plan{}
	plan.AddSecretEnv([]string{
		"MYSQL_ROOT_PASSWORD=r00t-s3cret", "DATABASE_URL=postgres://app:app-pass-1@db/app",
		"PG_PW=short1", "PATH=/usr/bin:/bin", "API_TOKEN=x", "TZ=Europe/Paris",
	})
	want := []string{"r00t-s3cret", "app-pass-1", "short1"}
	if !reflect.DeepEqual(plan.Secrets, want) {
		t.Errorf("Secrets = %q, want %q", plan.Secrets, want)
	}
	if got := plan.Mask("echo r00t-s3cret app-pass-1 /usr/bin"); got != "echo *** *** /usr/bin" {
		t.Errorf("Mask = %q", got)
	}
}

// ReadVariables tells which interpolated variables feed a secret, and where.
func TestReadVariables(t *testing.T) {
	dir := t.TempDir()
	src := `
x-common: &common
  API_KEY_FILE: /run/k
services:
  db:
    image: postgres:${PG_TAG:-16}
    environment:
      POSTGRES_PASSWORD: ${PG_PW}
      <<: *common
    volumes: ["${DATA_DIR}:/var/lib/postgresql/data"]
    x-backup: {dump: "pg_dumpall -d postgres://app:$${LITERAL}@db/ -h $DB_HOST"}
  app:
    image: app
    environment: ["DSN_HOST=${APP_HOST}"]
x-backup:
  repository: rest:https://backup:${REST_PW}@host/shop
  environment: {AWS_REGION: "${REGION}", AWS_SECRET_ACCESS_KEY: "${S3}"}
  notify: ["${SLACK_URL}"]
  healthcheck: https://hc-ping.com/${HC_UUID}
  password_command: cat ${SECRET_FILE_PATH}
`
	f := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := ReadVariables([]string{f})
	wantNames := []string{"APP_HOST", "DATA_DIR", "DB_HOST", "HC_UUID", "PG_PW", "PG_TAG", "REGION", "REST_PW", "S3", "SECRET_FILE_PATH", "SLACK_URL"}
	if !reflect.DeepEqual(vars.Names, wantNames) {
		t.Errorf("Names = %q, want %q", vars.Names, wantNames)
	}
	want := map[string]string{
		"PG_PW":            "services.db.environment.POSTGRES_PASSWORD",
		"APP_HOST":         "services.app.environment.DSN_HOST",
		"REST_PW":          "x-backup.repository (a password)",
		"S3":               "x-backup.environment.AWS_SECRET_ACCESS_KEY",
		"SLACK_URL":        "x-backup.notify[0]",
		"HC_UUID":          "x-backup.healthcheck",
		"SECRET_FILE_PATH": "its name",
	}
	if !reflect.DeepEqual(vars.Secret, want) {
		t.Errorf("Secret = %q, want %q", vars.Secret, want)
	}
}
