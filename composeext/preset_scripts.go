package composeext

// The presets' shell scripts. Each begins with failWith: a step that fails ends the
// script with exit code 1 and one line on stderr saying which step, which the backup's
// error then shows. Passwords are read from the service's environment (or the file a
// *_FILE variable names) inside the container and handed to the tool through its own
// environment variable or a temporary file, never argv.

// failWith defines fail, which ends a preset's script with one line naming the preset.
func failWith(preset string) string {
	return `fail() { echo "preset ` + preset + `: $*" >&2; exit 1; }; `
}

// readSecret sets variable v from the environment variable env, or else from the file
// that env_FILE names; a named file that cannot be read fails the script.
func readSecret(v, env string) string {
	f := env + "_FILE"
	return v + `="${` + env + `:-}"; if [ -z "$` + v + `" ] && [ -n "${` + f + `:-}" ]; then ` +
		`[ -r "$` + f + `" ] && [ -f "$` + f + `" ] || fail "cannot read ` + f + ` ($` + f + `)"; ` +
		v + `=$(cat "$` + f + `") || fail "cannot read ` + f + ` ($` + f + `)"; fi; `
}

// allowEmptyHint ends the message of an empty database set.
const allowEmptyHint = " (set x-backup.allow_empty: true if that is expected)"

// postgresLogin sets PGPASSWORD and u, the user to log in as.
var postgresLogin = failWith("postgres") + readSecret("PGPASSWORD", "POSTGRES_PASSWORD") +
	`export PGPASSWORD; u="${POSTGRES_USER:-postgres}"; `

// postgresDump lists the databases first, so that a failed login or an empty cluster
// fails before anything is written, then dumps the whole cluster: roles, then every
// database with --clean so that a restore replaces what changed since.
func postgresDump(o presetOptions) string {
	s := postgresLogin +
		`dbs=$(psql -X -A -t -q --username="$u" --dbname=postgres -c "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')") ` +
		`|| fail "could not log in as $u and list the databases"; `
	if !o.allowEmpty {
		s += `[ -n "$dbs" ] || fail "no database besides postgres, template0 and template1` + allowEmptyHint + `"; `
	}
	return s + `exec pg_dumpall --clean --if-exists --username="$u"`
}

// postgresRestore feeds the dump to psql with ON_ERROR_STOP, after three edits of the
// cluster part (before the first \connect): pg_dumpall drops and recreates every role,
// which fails for the role we are connected as, so roles are kept and created only when
// missing; and DROP DATABASE fails while the application is connected, so it is forced.
const postgresRestore = `sed -e '1,/^\\connect /{' ` +
	`-e '/^DROP ROLE IF EXISTS /d' ` +
	`-e 's/^CREATE ROLE \(.*\);$/DO $r$BEGIN CREATE ROLE \1; EXCEPTION WHEN duplicate_object THEN NULL; END$r$;/' ` +
	`-e 's/^DROP DATABASE IF EXISTS \(.*\);$/DROP DATABASE IF EXISTS \1 WITH (FORCE);/' ` +
	`-e '}' | psql -X -q -v ON_ERROR_STOP=1 --username="$u" --dbname=postgres >/dev/null`

// mysqlEnv are the variables that let the dump log in as root.
var mysqlEnv = []string{
	"MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD_FILE",
	"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
}

// mysqlLogin exports the root password as MYSQL_PWD, read from the image's variables
// (first, then second prefix, then their _FILE forms), so it is never in argv; and
// picks the client and dump tools: mariadb and mariadb-dump, else mysql and mysqldump.
func mysqlLogin(preset, first, second string) string {
	pw, f := first+"_ROOT_PASSWORD", first+"_ROOT_PASSWORD_FILE"
	pw2, f2 := second+"_ROOT_PASSWORD", second+"_ROOT_PASSWORD_FILE"
	return failWith(preset) +
		`pw="${` + pw + `:-${` + pw2 + `:-}}"; f="${` + f + `:-${` + f2 + `:-}}"; ` +
		`if [ -z "$pw" ] && [ -n "$f" ]; then ` +
		`[ -r "$f" ] && [ -f "$f" ] || fail "cannot read the root password file $f (` + f + ` or ` + f2 + `)"; ` +
		`pw=$(cat "$f") || fail "cannot read the root password file $f (` + f + ` or ` + f2 + `)"; fi; ` +
		`export MYSQL_PWD="$pw"; ` +
		`if command -v mariadb >/dev/null 2>&1; then cli=mariadb dump=mariadb-dump; ` +
		`elif command -v mysql >/dev/null 2>&1; then cli=mysql dump=mysqldump; ` +
		`else fail "neither mariadb nor mysql is in the container's PATH"; fi; `
}

// mysqlDump lists the application databases first, so that a failed login fails the
// dump instead of dumping nothing, then dumps them with DROP DATABASE first, so a
// restore replaces them whole; the system schemas (users, grants) are left to the image.
// Names are split on newlines only, so a database name may hold spaces.
func mysqlDump(o presetOptions) string {
	s := `dbs=$("$cli" -uroot -N -B -e "SELECT schema_name FROM information_schema.schemata ` +
		`WHERE schema_name NOT IN ('mysql','information_schema','performance_schema','sys')") ` +
		`|| fail "$cli could not log in as root and list the databases"; `
	if o.allowEmpty {
		// The tool does not run: the script writes the whole (empty) dump, marker included.
		s += `if [ -z "$dbs" ]; then echo '-- no database besides the system schemas (allow_empty)'; ` +
			`echo '-- Dump completed: nothing to dump'; exit 0; fi; `
	} else {
		s += `[ -n "$dbs" ] || fail "no database besides mysql, information_schema, performance_schema and sys` + allowEmptyHint + `"; `
	}
	return s + `command -v "$dump" >/dev/null 2>&1 || fail "$dump is not in the container's PATH"; ` +
		"set -f; IFS='\n'; " +
		`exec "$dump" -uroot --databases $dbs --add-drop-database --single-transaction --routines --events --triggers`
}

// mysqlRestore replays the dump.
const mysqlRestore = `exec "$cli" -uroot`

// mongoAuth sets the arguments that log in as the image's root user, if it has one; the
// password goes through a temporary --config file, never argv.
var mongoAuth = `set -e; ` + failWith("mongodb") + `set --; ` +
	`if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ]; then ` +
	readSecret("pw", "MONGO_INITDB_ROOT_PASSWORD") +
	`umask 077; cfg=$(mktemp); trap 'rm -f "$cfg"' EXIT; ` +
	`printf "password: '%s'\n" "$(printf '%s' "$pw" | sed "s/'/''/g")" >"$cfg"; ` +
	`set -- --username="$MONGO_INITDB_ROOT_USERNAME" --authenticationDatabase=admin --config="$cfg"; fi; `

// redisDump asks the server for its keyspace first, so that a refused login or an empty
// server fails before anything is written, then streams an RDB snapshot. REDIS_PASSWORD
// (bitnami and common setups) becomes REDISCLI_AUTH, which redis-cli reads without argv.
func redisDump(o presetOptions) string {
	s := failWith("redis") + readSecret("pw", "REDIS_PASSWORD") +
		`if [ -n "$pw" ]; then export REDISCLI_AUTH="$pw"; fi; ` +
		`ks=$(redis-cli info keyspace) || fail "redis-cli could not reach the server"; ` +
		`case "$ks" in *'# Keyspace'*) ;; *) fail "redis-cli could not read the keyspace: $ks" ;; esac; `
	if !o.allowEmpty {
		s += `case "$ks" in *keys=*) ;; *) fail "the server holds no key` + allowEmptyHint + `" ;; esac; `
	}
	return s + `exec redis-cli --rdb -`
}

// sqliteOpen opens the database read-only, so that a wrong path can never create an
// empty file in the service's volume, and waits for a writer's lock instead of failing.
const sqliteOpen = `sqlite3 -readonly -bail -cmd '.timeout 10000' "$p"`

// sqliteDump checks that the file exists and is a database with at least one table
// before it dumps it as SQL.
func sqliteDump(o presetOptions) string {
	s := failWith("sqlite") + `p=` + ShellQuote(o.path) + `; ` +
		`[ -e "$p" ] || fail "$p does not exist (x-backup.path)"; ` +
		`[ -f "$p" ] || fail "$p is not a file (x-backup.path)"; ` +
		`[ -r "$p" ] || fail "cannot read $p (x-backup.path)"; ` +
		`command -v sqlite3 >/dev/null 2>&1 || fail "sqlite3 is not in the container's PATH"; ` +
		`n=$(` + sqliteOpen + ` "SELECT count(*) FROM sqlite_master") || fail "sqlite3 cannot read $p as a database (x-backup.path)"; `
	if !o.allowEmpty {
		s += `[ "$n" != 0 ] || fail "$p holds no table` + allowEmptyHint + `"; `
	}
	return s + `exec ` + sqliteOpen + ` .dump`
}

// sqliteRestore loads the dump into a fresh file, then copies it in with sqlite's backup
// API, which is safe while the application holds the database open.
func sqliteRestore(o presetOptions) string {
	return `set -e; tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT; sqlite3 -bail "$tmp"; ` +
		`sqlite3 ` + ShellQuote(o.path) + ` ".restore $tmp"`
}
