package composeext

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadCase loads a testdata case with extra environment.
func loadCase(t *testing.T, name string, env ...string) *Plan {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Environ: append([]string{"HOME=/home/user"}, env...)})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestLoadSecretsNeverMarshalled(t *testing.T) {
	plan := loadCase(t, "interpolation", "B2_ACCOUNT_ID=from-process-env", "PROJECT_SUFFIX=prod")
	want := map[string]string{
		"B2_ACCOUNT_ID":      "from-process-env",
		"B2_ACCOUNT_KEY":     "never-printed",
		"B2_CONNECTIONS":     "4",
		"RESTIC_COMPRESSION": "max",
	}
	for k, v := range want {
		if got := plan.Repository.Env[k]; got != v {
			t.Errorf("Env[%s] = %q, want %q", k, got, v)
		}
	}
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "never-printed") || strings.Contains(string(b), "from-process-env") {
		t.Errorf("a secret value is in the JSON plan: %s", b)
	}
}

func TestLoadPasswordFromEnvironment(t *testing.T) {
	plan := loadCase(t, "password-env", "RESTIC_PASSWORD=from-env-never-printed")
	if plan.Repository.Password != "from-env-never-printed" {
		t.Errorf("Password = %q, want the RESTIC_PASSWORD value", plan.Repository.Password)
	}
	plan = loadCase(t, "password-env", "RESTIC_PASSWORD_FILE=/run/secrets/restic")
	if plan.Repository.PasswordFile != "/run/secrets/restic" || plan.Repository.Password != "" {
		t.Errorf("PasswordFile = %q, want /run/secrets/restic", plan.Repository.PasswordFile)
	}
}

func TestLoadPresetsKeepSecretsOutOfArgv(t *testing.T) {
	plan := loadCase(t, "presets")
	for _, s := range plan.Services {
		for _, argv := range [][]string{s.Dump.Command, s.Dump.Restore} {
			if strings.Contains(strings.Join(argv, " "), "never-printed") {
				t.Errorf("%s: a secret value is in argv: %q", s.Name, argv)
			}
			if strings.Contains(strings.Join(argv, " "), "gzip") {
				t.Errorf("%s: dumps must not be compressed: %q", s.Name, argv)
			}
		}
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"rest:https://user:secret@host:8000/repo": "rest:https://user:***@host:8000/repo",
		"rest:https://host/repo":                  "rest:https://host/repo",
		"s3:https://s3.example.com/bucket":        "s3:https://s3.example.com/bucket",
		"sftp:user@host:/srv/restic":              "sftp:user@host:/srv/restic",
		"rest:http://user@host/":                  "rest:http://user@host/",
		"/srv/backups":                            "/srv/backups",
	} {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSelectUnknownWrapsErrInvalid(t *testing.T) {
	plan := loadCase(t, "select")
	_, err := plan.Select([]string{"zzz"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Select: got %v, want an error wrapping ErrInvalid", err)
	}
	all, err := plan.Select(nil)
	if err != nil || len(all.Services) != 2 {
		t.Errorf("Select(nil) = %v, %v; want the whole plan", all, err)
	}
}

func TestLoadWorkingDirMustBeAbsolute(t *testing.T) {
	if _, err := Load(context.Background(), LoadOptions{WorkingDir: "relative"}); err == nil {
		t.Error("Load with a relative WorkingDir: got no error")
	}
}

// BenchmarkLoad50Services loads and resolves a generated compose file of 50 services
// (volumes, presets and dumps mixed), which is what `docker backup plan` does.
func BenchmarkLoad50Services(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("x-backup:\n  retention: {keep_daily: 7}\nservices:\n")
	for i := range 50 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&sb, "  db%d:\n    image: postgres:16\n    volumes: [pg%d:/var/lib/postgresql/data]\n    x-backup: postgres\n", i, i)
		case 1:
			fmt.Fprintf(&sb, "  files%d:\n    image: busybox\n    volumes: [data%d:/data, ./conf%d:/conf]\n    x-backup: {volumes: [data%d, /conf], stop: true}\n", i, i, i, i)
		default:
			fmt.Fprintf(&sb, "  app%d:\n    image: busybox\n    volumes: [cache%d:/cache]\n", i, i)
		}
	}
	sb.WriteString("volumes:\n")
	for i := range 50 {
		fmt.Fprintf(&sb, "  pg%d: {}\n  data%d: {}\n  cache%d: {}\n", i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := LoadOptions{WorkingDir: dir, Environ: []string{"HOME=/home/user"}}
	b.ResetTimer()
	for b.Loop() {
		plan, err := Load(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Services) != 34 {
			b.Fatalf("got %d services, want 34", len(plan.Services))
		}
	}
}

func TestMaskedHidesInterpolatedSecrets(t *testing.T) {
	dir := t.TempDir()
	src := "services:\n  db:\n    image: mysql\n    environment: {MYSQL_ROOT_PASSWORD: \"${ROOT_PW}\"}\n" +
		"    x-backup:\n      dump: mysqldump -uroot -p${ROOT_PW} --all-databases\n" +
		"      verify: mysql -uroot -p${ROOT_PW} -e 'SELECT 1'\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Environ: []string{"ROOT_PW=hunter22"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Services[0].Dump.Command[2]; !strings.Contains(got, "hunter22") {
		t.Fatalf("the plan must keep the real command, got %q", got)
	}
	b, _ := json.Marshal(plan.Masked())
	if strings.Contains(string(b), "hunter22") {
		t.Errorf("Masked plan shows the secret: %s", b)
	}
	if strings.Count(string(b), "-p***") != 2 {
		t.Errorf("Masked plan: want -p*** in the dump and the verify command, got %s", b)
	}
}
