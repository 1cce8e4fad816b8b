package composeext

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The restore drill's scripts run here as the other preset scripts do (runScript): under
// sh against stub database tools. A stub finds what the "server" holds in the folder
// $DATA: a file per database, t/<name>, holding its number of tables.

// drillScripts are a preset's readiness probe and default check for the settings.
func drillScripts(t *testing.T, name string, o presetOptions) (ready, check []string) {
	t.Helper()
	ds := presets[name].drill(o)
	return ds.Ready, ds.Check
}

// runCheck runs a preset's check with the database names as its arguments.
func runCheck(t *testing.T, name string, o presetOptions, names []string, env, stubs map[string]string) scriptRun {
	t.Helper()
	_, check := drillScripts(t, name, o)
	if len(check) != 4 || check[0] != "sh" || check[1] != "-c" || check[3] != drillArg0 {
		t.Fatalf("check %q: want sh -c SCRIPT %s", check, drillArg0)
	}
	// runScript takes one script: the names become its positional arguments by set --.
	args := make([]string, len(names))
	for i, n := range names {
		args[i] = ShellQuote(n)
	}
	return runScript(t, "set -- "+strings.Join(args, " ")+"\n"+check[2], env, stubs)
}

// serverData makes $DATA: tables per database (name → count).
func serverData(t *testing.T, tables map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	for db, n := range tables {
		if err := os.WriteFile(filepath.Join(dir, "t", db), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantLine checks that a check passed and printed exactly line.
func wantLine(t *testing.T, r scriptRun, line string) {
	t.Helper()
	if r.code != 0 || r.stdout != line+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q: want exit 0 and %q", r.code, r.stdout, r.stderr, line)
	}
}

// wantOneLine checks that a check failed with exit code 1, no output and exactly one
// line on stderr, ours, holding msg.
func wantOneLine(t *testing.T, r scriptRun, msg string) {
	t.Helper()
	wantFail(t, r, msg)
	if strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n") != 0 || !strings.HasPrefix(r.stderr, "preset ") {
		t.Errorf("stderr %q: want one line of ours", r.stderr)
	}
}

// wantNoSecretInArgv checks that no tool got the password in its argv.
func wantNoSecretInArgv(t *testing.T, r scriptRun) {
	t.Helper()
	if strings.Contains(argvLines(r.log), "s3cret") {
		t.Errorf("the password is in argv:\n%s", argvLines(r.log))
	}
}

func TestPostgresDrillCheck(t *testing.T) {
	// psql answers the listing, the lookup of :'db' (read on stdin, the name in -v db=)
	// and the table count of $PGDATABASE.
	psql := `[ "$PGPASSWORD" = s3cret ] || { echo 'psql: error: password authentication failed for user "app"' >&2; exit 2; }
db=""; for a; do case "$a" in db=*) db=${a#db=};; esac; done
case "$*" in *"SELECT datname FROM pg_database WHERE datname NOT IN"*) printf '%s' "$DBS"; exit 0;; esac
if [ -n "$db" ]; then q=$(cat); case "$q" in *"datname = :'db'"*) if [ -e "$DATA/t/$db" ] || [ "$db" = postgres ]; then echo 1; else echo 0; fi; exit 0;; esac; fi
case "$*" in *pg_tables*) [ "$PGDATABASE" = postgres ] && { echo "${PGTABLES:-0}"; exit 0; }; [ -e "$DATA/t/$PGDATABASE" ] || { echo "FATAL: database \"$PGDATABASE\" does not exist" >&2; exit 2; }; cat "$DATA/t/$PGDATABASE"; echo; exit 0;; esac
echo "unexpected psql $*" >&2; exit 3`
	stubs := map[string]string{"psql": psql}
	data := serverData(t, map[string]string{"appdb": "3", "My Shop": "1", `it's "x"`: "2", "empty": "0"})
	env := func(kv ...string) map[string]string {
		m := map[string]string{"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "s3cret", "DATA": data}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		o     presetOptions
		names []string
		env   map[string]string
		line  string // printed on success
		fail  string
	}{
		{"the dump's databases", presetOptions{}, []string{"template1", "appdb", "My Shop", `it's "x"`, "postgres"}, env(),
			`databases appdb (3 tables), My Shop (1 table), it's "x" (2 tables)`, ""},
		{"no names: the server's", presetOptions{}, nil, env("DBS", "appdb\nMy Shop\n"), "databases appdb (3 tables), My Shop (1 table)", ""},
		{"a database missing", presetOptions{}, []string{"appdb", "shop"}, env(), "", "database shop does not exist after the restore"},
		{"a database without tables", presetOptions{}, []string{"empty"}, env(), "", "database empty holds no table"},
		{"only the system databases", presetOptions{}, []string{"template1", "postgres"}, env(), "", "no table in a database besides template0 and template1 after the restore"},
		{"only the system databases, allowed", presetOptions{allowEmpty: true}, []string{"template1", "postgres"}, env(),
			"no table in a database besides template0 and template1 (allow_empty)", ""},
		{"tables in postgres", presetOptions{}, []string{"template1", "postgres"}, env("PGTABLES", "4"), "databases postgres (4 tables)", ""},
		{"tables in postgres and an application database", presetOptions{}, []string{"postgres", "appdb"}, env("PGTABLES", "1"), "databases postgres (1 table), appdb (3 tables)", ""},
		{"an empty server", presetOptions{}, nil, env(), "", "no table in a database besides template0 and template1 after the restore"},
		{"a refused login", presetOptions{}, []string{"appdb"}, env("POSTGRES_PASSWORD", "live"), "",
			`could not log in as app and look for database appdb: psql: error: password authentication failed for user "app"`},
		{"a refused login, listing", presetOptions{}, nil, env("POSTGRES_PASSWORD", "live"), "", "could not log in as app and list the databases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCheck(t, "postgres", tc.o, tc.names, tc.env, stubs)
			if tc.fail != "" {
				wantOneLine(t, r, "preset postgres: "+tc.fail)
				return
			}
			wantLine(t, r, tc.line)
			wantNoSecretInArgv(t, r)
		})
	}
}

func TestMySQLDrillCheck(t *testing.T) {
	// The client answers the listing, or the lookup of one name: the text between
	// schema_name = ' and the next "'), (" unquoted, as the server reads it.
	client := `[ "$MYSQL_PWD" = s3cret ] || { echo "ERROR 1045 (28000): Access denied for user 'root'@'localhost'" >&2; exit 1; }
case "$*" in *"SELECT schema_name FROM"*) printf '%s' "$DBS"; exit 0;; esac
q=$*; s=${q#*"schema_name = '"}; s=${s%%"'), ("*}; db=$(printf '%s' "$s" | sed -e "s/''/'/g" -e 's/\\\\/\\/g')
if [ -e "$DATA/t/$db" ]; then printf '1\t%s\n' "$(cat "$DATA/t/$db")"; else printf '0\t0\n'; fi`
	data := serverData(t, map[string]string{"shop": "12", "my shop": "1", `it's \ odd`: "2", "bare": "0"})
	for _, tc := range []struct {
		name, preset string
		tools        map[string]string
		o            presetOptions
		names        []string
		dbs          string
		line, fail   string
	}{
		{"mariadb", "mariadb", map[string]string{"mariadb": client}, presetOptions{}, []string{"shop", "my shop", `it's \ odd`, "mysql"}, "",
			`databases shop (12 tables), my shop (1 table), it's \ odd (2 tables)`, ""},
		{"mysql", "mysql", map[string]string{"mysql": client}, presetOptions{}, []string{"shop"}, "", "databases shop (12 tables)", ""},
		{"no names: the server's", "mariadb", map[string]string{"mariadb": client}, presetOptions{}, nil, "shop\nmy shop\n", "databases shop (12 tables), my shop (1 table)", ""},
		{"a database missing", "mariadb", map[string]string{"mariadb": client}, presetOptions{}, []string{"shop", "gone"}, "", "", "database gone does not exist after the restore"},
		{"a database without tables", "mysql", map[string]string{"mysql": client}, presetOptions{}, []string{"bare"}, "", "", "database bare holds no table"},
		{"nothing", "mariadb", map[string]string{"mariadb": client}, presetOptions{}, nil, "", "", "no database besides mysql, information_schema, performance_schema and sys after the restore"},
		{"nothing, allowed", "mariadb", map[string]string{"mariadb": client}, presetOptions{allowEmpty: true}, nil, "",
			"no database besides mysql, information_schema, performance_schema and sys (allow_empty)", ""},
		{"no client", "mysql", map[string]string{}, presetOptions{}, []string{"shop"}, "", "", "neither mariadb nor mysql is in the container's PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MARIADB_ROOT_PASSWORD": "s3cret", "DATA": data, "DBS": tc.dbs}
			r := runCheck(t, tc.preset, tc.o, tc.names, env, tc.tools)
			if tc.fail != "" {
				wantOneLine(t, r, "preset "+tc.preset+": "+tc.fail)
				return
			}
			wantLine(t, r, tc.line)
			wantNoSecretInArgv(t, r)
		})
	}
	t.Run("a refused login", func(t *testing.T) {
		env := map[string]string{"MARIADB_ROOT_PASSWORD": "live", "DATA": data}
		r := runCheck(t, "mariadb", presetOptions{}, []string{"shop"}, env, map[string]string{"mariadb": client})
		wantOneLine(t, r, "preset mariadb: mariadb could not log in as root and look for database shop: ERROR 1045 (28000): Access denied for user 'root'@'localhost'")
	})
}

func TestSQLiteDrillCheck(t *testing.T) {
	db := filepath.Join(t.TempDir(), "it's.db")
	if err := os.WriteFile(db, []byte("SQLite format 3\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	sqlite := `for a; do q=$a; done
[ -z "${MALFORMED:-}" ] || { echo 'Error: in prepare, database disk image is malformed (11)' >&2; exit 1; }
case "$q" in 'PRAGMA integrity_check') printf '%s\n' "${INTEGRITY:-ok}";; SELECT*) echo "${TABLES:-2}";; *) exit 3;; esac`
	stubs := map[string]string{"sqlite3": sqlite}
	for _, tc := range []struct {
		name, path string
		o          presetOptions
		env        map[string]string
		line, fail string
	}{
		{"whole", db, presetOptions{}, nil, "database " + db + ": integrity_check ok, 2 tables", ""},
		{"corrupt", db, presetOptions{}, map[string]string{"INTEGRITY": "*** in database main ***\nPage 5: btreeInitPage() returns error code 11"}, "",
			"integrity_check of " + db + ": *** in database main ***"},
		{"not a database", db, presetOptions{}, map[string]string{"MALFORMED": "1"}, "",
			"sqlite3 cannot read " + db + " as a database: Error: in prepare, database disk image is malformed (11)"},
		{"no file", db + ".gone", presetOptions{}, nil, "", db + ".gone does not exist after the restore"},
		{"no table", db, presetOptions{}, map[string]string{"TABLES": "0"}, "", db + " holds no table after the restore"},
		{"no table, allowed", db, presetOptions{allowEmpty: true}, map[string]string{"TABLES": "0"}, "database " + db + ": integrity_check ok, 0 tables", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCheck(t, "sqlite", presetOptions{path: tc.path, allowEmpty: tc.o.allowEmpty}, nil, tc.env, stubs)
			if tc.fail != "" {
				wantOneLine(t, r, "preset sqlite: "+tc.fail)
				return
			}
			wantLine(t, r, tc.line)
			for _, l := range strings.Split(argvLines(r.log), "\n") {
				if !strings.HasPrefix(l, "sqlite3 [-readonly]") {
					t.Errorf("sqlite3 ran without -readonly: %s", l)
				}
			}
		})
	}
}

func TestRedisDrill(t *testing.T) {
	cli := `[ "${REDISCLI_AUTH:-}" = "${WANT_AUTH:-}" ] || { echo 'NOAUTH Authentication required.'; exit 0; }
case "$1" in ping) echo "${PING:-PONG}";; info) printf '# Keyspace\r\n%s' "$KEYS";; *) exit 3;; esac`
	stubs := map[string]string{"redis-cli": cli}
	for _, tc := range []struct {
		name       string
		o          presetOptions
		env        map[string]string
		line, fail string
	}{
		{"keys", presetOptions{}, map[string]string{"KEYS": "db0:keys=12,expires=0,avg_ttl=0\r\ndb3:keys=3,expires=1,avg_ttl=9\r\n"}, "15 keys in 2 databases", ""},
		{"a password", presetOptions{}, map[string]string{"REDIS_PASSWORD": "s3cret", "WANT_AUTH": "s3cret", "KEYS": "db0:keys=1,expires=0\r\n"}, "1 key in 1 database", ""},
		{"no key", presetOptions{}, map[string]string{}, "", "the server holds no key after loading the dump"},
		{"no key, allowed", presetOptions{allowEmpty: true}, map[string]string{}, "no key (allow_empty)", ""},
		{"a refused login", presetOptions{}, map[string]string{"WANT_AUTH": "s3cret"}, "", "redis-cli could not read the keyspace: NOAUTH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCheck(t, "redis", tc.o, []string{"ignored"}, tc.env, stubs)
			if tc.fail != "" {
				wantOneLine(t, r, "preset redis: "+tc.fail)
				return
			}
			wantLine(t, r, tc.line)
			wantNoSecretInArgv(t, r)
		})
	}
	ready, _ := drillScripts(t, "redis", presetOptions{})
	for _, tc := range []struct {
		name string
		env  map[string]string
		fail string
	}{
		{"PONG", map[string]string{}, ""},
		{"loading", map[string]string{"PING": "LOADING Redis is loading the dataset in memory"}, "redis-cli ping: LOADING"},
		{"a refused login", map[string]string{"WANT_AUTH": "s3cret"}, "redis-cli ping: NOAUTH"},
	} {
		t.Run("ready "+tc.name, func(t *testing.T) {
			r := runScript(t, ready[2], tc.env, stubs)
			if tc.fail != "" {
				wantFail(t, r, tc.fail)
			} else if r.code != 0 {
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

func TestDrillReadyProbes(t *testing.T) {
	ok := "exit 0"
	for _, tc := range []struct {
		name, preset string
		env, tools   map[string]string
		argv         string
	}{
		{"postgres", "postgres", map[string]string{"POSTGRES_USER": "app"}, map[string]string{"pg_isready": ok},
			"pg_isready [-q] [-h] [127.0.0.1] [-U] [app] [-d] [postgres]"},
		{"postgres default user", "postgres", nil, map[string]string{"pg_isready": ok}, "pg_isready [-q] [-h] [127.0.0.1] [-U] [postgres] [-d] [postgres]"},
		{"mariadb", "mariadb", map[string]string{"MARIADB_ROOT_PASSWORD": "s3cret"}, map[string]string{"mariadb": ok, "mariadb-admin": ok},
			"mariadb-admin [-uroot] [--protocol=tcp] [-h127.0.0.1] [ping]"},
		{"mysql", "mysql", map[string]string{"MYSQL_ROOT_PASSWORD": "s3cret"}, map[string]string{"mysql": ok, "mysqladmin": ok},
			"mysqladmin [-uroot] [--protocol=tcp] [-h127.0.0.1] [ping]"},
		{"mongodb", "mongodb", nil, map[string]string{"mongosh": ok}, "mongosh [--quiet] [--eval] [db.runCommand({ping: 1})]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready, _ := drillScripts(t, tc.preset, presetOptions{})
			r := runScript(t, ready[2], tc.env, tc.tools)
			if r.code != 0 || argvLines(r.log) != tc.argv {
				t.Errorf("exit %d, stderr %q, calls:\n%s\nwant %s", r.code, r.stderr, argvLines(r.log), tc.argv)
			}
			wantNoSecretInArgv(t, r)
			if strings.HasPrefix(tc.preset, "m") && tc.preset != "mongodb" && !strings.Contains(r.log, "env MYSQL_PWD=s3cret") {
				t.Errorf("the ping does not log in as the restore does (MYSQL_PWD):\n%s", r.log)
			}
		})
	}
	t.Run("no admin tool", func(t *testing.T) {
		ready, _ := drillScripts(t, "mysql", presetOptions{})
		r := runScript(t, ready[2], map[string]string{"MYSQL_ROOT_PASSWORD": "x"}, map[string]string{"mysql": ok})
		wantOneLine(t, r, "preset mysql: mysqladmin is not in the container's PATH")
	})
}

// mongoshHarness plays mongosh for the check's --eval script in node: the server holds
// $HAVE (comma-separated) and takes the password $WANT_PW.
const mongoshHarness = `const vm = require("vm");
const code = process.argv[process.argv.indexOf("--eval") + 1];
const admin = {
  auth(u, p) { if (p !== process.env.WANT_PW) throw new Error("MongoServerError: Authentication failed."); },
  adminCommand() { return {databases: (process.env.HAVE || "").split(",").filter(Boolean).map(name => ({name}))}; },
};
const db = {getSiblingDB() { return admin; }};
const print = process.env.INSTEAD ? () => console.log(process.env.INSTEAD) : console.log;
try { vm.runInNewContext(code, {db, process, print, quit: c => process.exit(c)}); if (process.env.MORE) console.log(process.env.MORE); }
catch (e) { console.error(e.message); process.exit(1); }
`

func TestMongoDrillCheck(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the check's JavaScript is not run")
	}
	harness := filepath.Join(t.TempDir(), "mongosh.js")
	if err := os.WriteFile(harness, []byte(mongoshHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	stubs := map[string]string{"mongosh": `exec "$NODE" "$HARNESS" "$@"`}
	for _, tc := range []struct {
		name       string
		names      []string
		env        map[string]string
		line, fail string
	}{
		{"the server's databases", nil, map[string]string{"HAVE": "admin,config,local,shop,app"}, "databases shop, app", ""},
		{"the named ones", []string{"shop"}, map[string]string{"HAVE": "admin,shop,app"}, "databases shop", ""},
		{"a named one missing", []string{"shop", "gone"}, map[string]string{"HAVE": "admin,shop"}, "", "database gone does not exist after the restore"},
		{"nothing", nil, map[string]string{"HAVE": "admin,config,local"}, "", "no database besides admin, config and local after the restore"},
		{"root login", nil, map[string]string{"HAVE": "shop", "MONGO_INITDB_ROOT_USERNAME": "root", "MONGO_INITDB_ROOT_PASSWORD": "s3cret", "WANT_PW": "s3cret"}, "databases shop", ""},
		{"a refused login", nil, map[string]string{"HAVE": "shop", "MONGO_INITDB_ROOT_USERNAME": "root", "MONGO_INITDB_ROOT_PASSWORD": "live", "WANT_PW": "s3cret"}, "",
			"MongoServerError: Authentication failed."},
		{"mongosh prints more", nil, map[string]string{"HAVE": "shop", "MORE": "undefined"}, "databases shop", ""},
		{"mongosh answers otherwise", nil, map[string]string{"HAVE": "shop", "INSTEAD": "Warning: something"}, "", "mongosh answered: Warning: something"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["NODE"], tc.env["HARNESS"] = node, harness
			r := runCheck(t, "mongodb", presetOptions{}, tc.names, tc.env, stubs)
			if tc.fail != "" {
				wantOneLine(t, r, "preset mongodb: "+tc.fail)
				return
			}
			wantLine(t, r, tc.line)
			wantNoSecretInArgv(t, r)
		})
	}
}

func TestPresetDrillSpec(t *testing.T) {
	for _, tc := range []struct {
		preset   string
		ready    bool
		password []string
		load     bool
	}{
		{"postgres", true, []string{"POSTGRES_PASSWORD"}, false},
		{"mysql", true, []string{"MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD", "MARIADB_ROOT_PASSWORD", "MARIADB_PASSWORD"}, false},
		{"mariadb", true, []string{"MARIADB_ROOT_PASSWORD", "MARIADB_PASSWORD", "MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD"}, false},
		{"mongodb", true, []string{"MONGO_INITDB_ROOT_PASSWORD"}, false},
		{"redis", true, []string{"REDIS_PASSWORD"}, true},
		{"sqlite", false, nil, false},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			d := &decoder{probs: &problems{}}
			spec := &DumpSpec{Restore: []string{"my-restore"}}
			applyPreset(d, "services.db.x-backup", "db", serviceDecl{Strategy: StrategyDump, Preset: tc.preset, Path: "/d.db"}, svcWithEnv("MYSQL_ROOT_PASSWORD"), spec)
			if spec.Drill == nil || spec.Drill.Load != nil {
				t.Errorf("with a restore of the user's own: %+v, want a drill spec without a load path", spec.Drill)
			}
			for _, own := range []bool{false, true} {
				d := &decoder{probs: &problems{}}
				sd := serviceDecl{Strategy: StrategyDump, Preset: tc.preset}
				if tc.preset == "sqlite" {
					sd.Path = "/data/app.db"
				}
				spec := &DumpSpec{}
				if own {
					sd.Dump, spec.Command = []string{"my-dump"}, []string{"my-dump"}
				}
				applyPreset(d, "services.db.x-backup", "db", sd, svcWithEnv("MYSQL_ROOT_PASSWORD"), spec)
				ds := spec.Drill
				if ds == nil {
					t.Fatalf("own dump %v: no drill spec", own)
				}
				if (ds.Ready != nil) != tc.ready || !slices.Equal(ds.PasswordEnv, tc.password) || (ds.Load != nil) != tc.load {
					t.Errorf("own dump %v: %+v", own, ds)
				}
			}
			// Every script the drill may run is valid sh, for both settings of allow_empty.
			for _, o := range []presetOptions{{path: "/data/it's.db"}, {path: "/d.db", allowEmpty: true}} {
				ds := presets[tc.preset].drill(o)
				for _, argv := range [][]string{ds.Ready, ds.Check, ds.Load} {
					if argv == nil {
						continue
					}
					if out, err := exec.Command("sh", "-n", "-c", argv[2]).CombinedOutput(); err != nil {
						t.Errorf("sh -n: %v: %s\n%s", err, out, argv[2])
					}
				}
			}
		})
	}
}
