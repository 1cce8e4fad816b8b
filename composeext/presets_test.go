package composeext

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// The presets' scripts run here under sh against stub database tools: a bin folder that
// holds the stubs and links to the few system tools the scripts use, and nothing else,
// so a test decides which tools exist. Each stub records its argv and environment in
// calls.log. The real tools are exercised by the e2e tests.

// scriptRun is what a preset's script did.
type scriptRun struct {
	stdout, stderr, log string
	code                int
}

// systemTools are what the scripts may use besides the database tools.
var systemTools = []string{"sh", "cat", "sed", "mktemp", "rm", "env", "grep", "sort"}

// runScript runs a preset script with only env in its environment and stubs (name →
// shell script body) on its PATH.
func runScript(t *testing.T, script string, env map[string]string, stubs map[string]string) scriptRun {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range systemTools {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(dir, "calls.log")
	for name, body := range stubs {
		stub := "#!/bin/sh\n{ printf '%s' " + name + "; printf ' [%s]' \"$@\"; echo; env | grep -v '^PATH=' | sort | sed 's/^/  env /'; } >>" + log + "\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(bin, "sh"), "-c", script)
	cmd.Env = []string{"PATH=" + bin, "HOME=" + dir, "TMPDIR=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := scriptRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if b, err := os.ReadFile(log); err == nil {
		r.log = string(b)
	}
	return r
}

// wantFail checks that a script failed with exit code 1 and one stderr line of ours
// holding msg, and wrote nothing to stdout.
func wantFail(t *testing.T, r scriptRun, msg string) {
	t.Helper()
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, msg) {
		t.Errorf("exit %d, stdout %q, stderr %q: want exit 1, no output and %q", r.code, r.stdout, r.stderr, msg)
	}
}

// script is a preset's dump or restore script for the given settings.
func script(name string, restore bool, o presetOptions) string {
	if restore {
		return presets[name].restore(o)
	}
	return presets[name].dump(o)
}

// argvLines are the lines of a stub log that record argv, without the environment.
func argvLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if l != "" && !strings.HasPrefix(l, "  env ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

const pgEnd = "--\n-- PostgreSQL database cluster dump complete\n--\n"

func TestPostgresPresetFailsClosed(t *testing.T) {
	psql := `[ "$PGPASSWORD" = s3cret ] || { echo 'psql: error: password authentication failed for user "app"' >&2; exit 2; }; printf '%s' "$DBS"`
	stubs := map[string]string{"psql": psql, "pg_dumpall": `printf 'SET x;\n` + pgEnd + `'`}
	for _, tc := range []struct {
		name string
		env  map[string]string
		o    presetOptions
		fail string
	}{
		{"dumps", map[string]string{"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "s3cret", "DBS": "appdb\n"}, presetOptions{}, ""},
		{"password from a file", map[string]string{"POSTGRES_PASSWORD_FILE": "/nonexistent/../pw", "DBS": "appdb\n"}, presetOptions{}, "cannot read POSTGRES_PASSWORD_FILE (/nonexistent/../pw)"},
		{"wrong password", map[string]string{"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "rotated", "DBS": "appdb\n"}, presetOptions{}, "could not log in as app and list the databases"},
		{"empty cluster", map[string]string{"POSTGRES_PASSWORD": "s3cret"}, presetOptions{}, "no database besides postgres, template0 and template1 (set x-backup.allow_empty: true"},
		{"empty cluster allowed", map[string]string{"POSTGRES_PASSWORD": "s3cret"}, presetOptions{allowEmpty: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, script("postgres", false, tc.o), tc.env, stubs)
			if tc.fail != "" {
				wantFail(t, r, tc.fail)
				if strings.Contains(r.log, "pg_dumpall") {
					t.Errorf("pg_dumpall ran after a failed step:\n%s", r.log)
				}
				return
			}
			if r.code != 0 || !strings.HasSuffix(r.stdout, pgEnd) {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if strings.Contains(argvLines(r.log), "s3cret") || !strings.Contains(r.log, "env PGPASSWORD=s3cret") {
				t.Errorf("the password must reach the tools through PGPASSWORD, never argv:\n%s", r.log)
			}
		})
	}
	t.Run("password file", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runScript(t, script("postgres", false, presetOptions{}), map[string]string{"POSTGRES_PASSWORD_FILE": pw, "DBS": "appdb"}, stubs)
		if r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
	})
}

func TestMySQLPresetsFailClosed(t *testing.T) {
	list := `[ "$MYSQL_PWD" = s3cret ] || { echo "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)" >&2; exit 1; }; printf '%s' "$DBS"`
	dump := `echo '-- MariaDB dump'; echo '-- Dump completed on 2026-11-25 17:00:00'`
	mariadbTools := map[string]string{"mariadb": list, "mariadb-dump": dump}
	mysqlTools := map[string]string{"mysql": list, "mysqldump": dump}
	pwFile := filepath.Join(t.TempDir(), "root")
	if err := os.WriteFile(pwFile, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, preset string
		env          map[string]string
		tools        map[string]string
		o            presetOptions
		fail         string
		argv         string // in the dump tool's argv
	}{
		{"mariadb", "mariadb", map[string]string{"MARIADB_ROOT_PASSWORD": "s3cret", "DBS": "shop\nmy shop\n"}, mariadbTools, presetOptions{}, "", "mariadb-dump [-uroot] [--databases] [shop] [my shop] [--add-drop-database]"},
		{"mysql names only", "mysql", map[string]string{"MYSQL_ROOT_PASSWORD": "s3cret", "DBS": "shop"}, mysqlTools, presetOptions{}, "", "mysqldump [-uroot] [--databases] [shop]"},
		{"password file", "mariadb", map[string]string{"MARIADB_ROOT_PASSWORD_FILE": pwFile, "DBS": "shop"}, mariadbTools, presetOptions{}, "", "mariadb-dump [-uroot]"},
		{"the other image's variables", "mysql", map[string]string{"MARIADB_ROOT_PASSWORD_FILE": pwFile, "DBS": "shop"}, mariadbTools, presetOptions{}, "", "mariadb-dump [-uroot]"},
		{"rotated password", "mariadb", map[string]string{"MARIADB_ROOT_PASSWORD": "old", "DBS": "shop"}, mariadbTools, presetOptions{}, "mariadb could not log in as root and list the databases", ""},
		{"missing password file", "mariadb", map[string]string{"MARIADB_ROOT_PASSWORD_FILE": "/run/secrets/nope", "DBS": "shop"}, mariadbTools, presetOptions{}, "cannot read the root password file /run/secrets/nope (MARIADB_ROOT_PASSWORD_FILE or MYSQL_ROOT_PASSWORD_FILE)", ""},
		{"no client", "mysql", map[string]string{"MYSQL_ROOT_PASSWORD": "s3cret"}, map[string]string{}, presetOptions{}, "neither mariadb nor mysql is in the container's PATH", ""},
		{"no dump tool", "mysql", map[string]string{"MYSQL_ROOT_PASSWORD": "s3cret", "DBS": "shop"}, map[string]string{"mysql": list}, presetOptions{}, "mysqldump is not in the container's PATH", ""},
		{"no database", "mariadb", map[string]string{"MARIADB_ROOT_PASSWORD": "s3cret"}, mariadbTools, presetOptions{}, "no database besides mysql, information_schema, performance_schema and sys (set x-backup.allow_empty: true", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, script(tc.preset, false, tc.o), tc.env, tc.tools)
			if tc.fail != "" {
				wantFail(t, r, tc.fail)
				if strings.Contains(r.log, "dump [") {
					t.Errorf("the dump ran after a failed step:\n%s", r.log)
				}
				return
			}
			if r.code != 0 || !strings.Contains(r.stdout, "-- Dump completed") {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.log, tc.argv) {
				t.Errorf("the dump ran as\n%s\nwant %q", argvLines(r.log), tc.argv)
			}
			if strings.Contains(argvLines(r.log), "s3cret") || !strings.Contains(r.log, "env MYSQL_PWD=s3cret") {
				t.Errorf("the password must reach the tools through MYSQL_PWD, never argv:\n%s", r.log)
			}
		})
	}
	t.Run("no database allowed", func(t *testing.T) {
		r := runScript(t, script("mariadb", false, presetOptions{allowEmpty: true}), map[string]string{"MARIADB_ROOT_PASSWORD": "s3cret"}, mariadbTools)
		if r.code != 0 || !strings.HasSuffix(r.stdout, "-- Dump completed: nothing to dump\n") || strings.Contains(r.log, "mariadb-dump") {
			t.Errorf("exit %d, stdout %q, stderr %q, calls %s", r.code, r.stdout, r.stderr, r.log)
		}
		if err := checkEnd(r.stdout, mysqlCheck); err != nil {
			t.Error(err)
		}
	})
	t.Run("restore", func(t *testing.T) {
		r := runScript(t, script("mysql", true, presetOptions{}), map[string]string{"MYSQL_ROOT_PASSWORD": "s3cret"}, mysqlTools)
		if r.code != 0 || argvLines(r.log) != "mysql [-uroot]" {
			t.Errorf("exit %d, stderr %q, calls %s", r.code, r.stderr, r.log)
		}
	})
}

// checkEnd is a stand-in for the backup package's marker check: the marker begins the
// last line that is not blank.
func checkEnd(dump string, c *DumpCheck) error {
	ls := strings.Split(strings.TrimRight(dump, "\n"), "\n")
	if !strings.HasPrefix(ls[len(ls)-1], c.End) {
		return errors.New("the dump does not end with " + c.End)
	}
	return nil
}

func TestMongoPresetAuthGoesThroughAConfigFile(t *testing.T) {
	// The stub shows the config file it was given, and whether it still exists after.
	tool := `for a; do case "$a" in --config=*) cfg=${a#--config=}; echo "config: $(cat "$cfg")";; esac; done; echo "$cfg" >"$HOME/cfg"`
	stubs := map[string]string{"mongodump": tool, "mongorestore": tool}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("it's s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		restore bool
		env     map[string]string
		want    string // the tool's argv
		config  string
	}{
		{"dump", false, map[string]string{"MONGO_INITDB_ROOT_USERNAME": "root", "MONGO_INITDB_ROOT_PASSWORD": "it's s3cret"},
			"mongodump [--quiet] [--archive] [--username=root] [--authenticationDatabase=admin] [--config=", "config: password: 'it''s s3cret'"},
		{"restore", true, map[string]string{"MONGO_INITDB_ROOT_USERNAME": "root", "MONGO_INITDB_ROOT_PASSWORD_FILE": pwFile},
			"mongorestore [--quiet] [--archive] [--drop] [--username=root] [--authenticationDatabase=admin] [--config=", "config: password: 'it''s s3cret'"},
		{"no root user", false, map[string]string{}, "mongodump [--quiet] [--archive]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, script("mongodb", tc.restore, presetOptions{}), tc.env, stubs)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(argvLines(r.log)+"\n", tc.want) || strings.Contains(argvLines(r.log), "s3cret") {
				t.Errorf("the tool ran as\n%s\nwant %q and no password in argv", argvLines(r.log), tc.want)
			}
			// The service's own variable is inherited, as in the container; the script
			// exports the password nowhere else.
			for _, l := range strings.Split(r.log, "\n") {
				if strings.Contains(l, "s3cret") && !strings.HasPrefix(l, "  env MONGO_INITDB_ROOT_PASSWORD=") {
					t.Errorf("the password reached the tool outside the config file: %s", l)
				}
			}
			if !strings.Contains(r.stdout, tc.config) {
				t.Errorf("the config file held %q, want %q", r.stdout, tc.config)
			}
		})
	}
	t.Run("missing password file", func(t *testing.T) {
		r := runScript(t, script("mongodb", false, presetOptions{}),
			map[string]string{"MONGO_INITDB_ROOT_USERNAME": "root", "MONGO_INITDB_ROOT_PASSWORD_FILE": "/run/secrets/nope"}, stubs)
		wantFail(t, r, "cannot read MONGO_INITDB_ROOT_PASSWORD_FILE (/run/secrets/nope)")
	})
}

func TestRedisPresetFailsClosed(t *testing.T) {
	cli := `if [ "$1" = info ]; then
  [ "${REDISCLI_AUTH:-}" = "${WANT_AUTH:-}" ] || { echo 'NOAUTH Authentication required.'; exit 0; }
  printf '# Keyspace\r\n%s' "$KEYS"; exit 0
fi
printf 'REDIS0011...'`
	stubs := map[string]string{"redis-cli": cli}
	for _, tc := range []struct {
		name string
		env  map[string]string
		o    presetOptions
		fail string
	}{
		{"dumps", map[string]string{"KEYS": "db0:keys=1,expires=0\r\n"}, presetOptions{}, ""},
		{"password", map[string]string{"REDIS_PASSWORD": "s3cret", "WANT_AUTH": "s3cret", "KEYS": "db0:keys=1\r\n"}, presetOptions{}, ""},
		{"refused login", map[string]string{"REDIS_PASSWORD": "old", "WANT_AUTH": "s3cret", "KEYS": "db0:keys=1\r\n"}, presetOptions{}, "redis-cli could not read the keyspace: NOAUTH Authentication required."},
		{"missing password file", map[string]string{"REDIS_PASSWORD_FILE": "/nope"}, presetOptions{}, "cannot read REDIS_PASSWORD_FILE (/nope)"},
		{"no key", map[string]string{}, presetOptions{}, "the server holds no key (set x-backup.allow_empty: true"},
		{"no key allowed", map[string]string{}, presetOptions{allowEmpty: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, script("redis", false, tc.o), tc.env, stubs)
			if tc.fail != "" {
				wantFail(t, r, tc.fail)
				if strings.Contains(r.log, "[--rdb]") {
					t.Errorf("the dump ran after a failed step:\n%s", r.log)
				}
				return
			}
			if r.code != 0 || r.stdout != "REDIS0011..." || !strings.Contains(r.log, "redis-cli [--rdb] [-]") {
				t.Fatalf("exit %d, stdout %q, stderr %q, calls %s", r.code, r.stdout, r.stderr, r.log)
			}
			if strings.Contains(argvLines(r.log), "s3cret") {
				t.Errorf("the password is in argv:\n%s", r.log)
			}
		})
	}
}

func TestSQLitePresetFailsClosed(t *testing.T) {
	dir := t.TempDir()
	db, empty := filepath.Join(dir, "app.db"), filepath.Join(dir, "empty.db")
	for _, f := range []string{db, empty} {
		if err := os.WriteFile(f, []byte("SQLite format 3\x00"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The stub answers the table count by file and dumps with COMMIT; at the end.
	stubs := map[string]string{"sqlite3": `for a; do f=$a; case "$a" in *.db) db=$a;; esac; done
if [ "$f" = .dump ]; then printf 'BEGIN TRANSACTION;\nCOMMIT;\n'; exit 0; fi
case "$db" in *empty.db) echo 0;; *) echo 3;; esac`}
	missing := filepath.Join(dir, "wrong", "app.db")
	for _, tc := range []struct {
		name, path string
		o          presetOptions
		fail       string
	}{
		{"dumps", db, presetOptions{}, ""},
		{"wrong path", missing, presetOptions{}, missing + " does not exist (x-backup.path)"},
		{"a folder", dir, presetOptions{}, dir + " is not a file (x-backup.path)"},
		{"no table", empty, presetOptions{}, empty + " holds no table (set x-backup.allow_empty: true"},
		{"no table allowed", empty, presetOptions{allowEmpty: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.path = tc.path
			r := runScript(t, script("sqlite", false, tc.o), nil, stubs)
			if tc.fail != "" {
				wantFail(t, r, tc.fail)
				if strings.Contains(r.log, "[.dump]") {
					t.Errorf("the dump ran after a failed step:\n%s", r.log)
				}
				if _, err := os.Stat(missing); err == nil {
					t.Errorf("the preset created %s", missing)
				}
				return
			}
			if r.code != 0 || !strings.HasSuffix(r.stdout, "COMMIT;\n") {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			// Every open is read-only: a wrong path can never create a file.
			for _, l := range strings.Split(argvLines(r.log), "\n") {
				if !strings.HasPrefix(l, "sqlite3 [-readonly]") {
					t.Errorf("sqlite3 ran without -readonly: %s", l)
				}
			}
		})
	}
}

func TestPresetChecksOnlyTheirOwnDump(t *testing.T) {
	for _, tc := range []struct {
		preset string
		own    bool
		want   *DumpCheck
	}{
		{"postgres", false, postgresCheck},
		{"mysql", false, mysqlCheck},
		{"mariadb", false, mysqlCheck},
		{"redis", false, redisCheck},
		{"sqlite", false, sqliteCheck},
		{"mongodb", false, nil},
		{"postgres", true, nil},
	} {
		d := &decoder{probs: &problems{}}
		sd := serviceDecl{Strategy: StrategyDump, Preset: tc.preset, Path: "/data/app.db"}
		if tc.preset != "sqlite" {
			sd.Path = ""
		}
		spec := &DumpSpec{}
		if tc.own {
			sd.Dump = []string{"my-dump"}
			spec.Command = sd.Dump
		}
		applyPreset(d, "services.db.x-backup", "db", sd, svcWithEnv("MYSQL_ROOT_PASSWORD"), spec)
		switch {
		case tc.want == nil && spec.Check != nil:
			t.Errorf("%s (own dump %v): check %+v, want none", tc.preset, tc.own, spec.Check)
		case tc.want != nil && (spec.Check == nil || *spec.Check != *tc.want):
			t.Errorf("%s: check %+v, want %+v", tc.preset, spec.Check, tc.want)
		}
	}
}

// svcWithEnv is a service whose environment sets name.
func svcWithEnv(name string) types.ServiceConfig {
	v := "x"
	var svc types.ServiceConfig
	svc.Environment = types.MappingWithEquals{name: &v}
	return svc
}
