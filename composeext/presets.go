package composeext

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// A preset is a dump and a restore for the conventions of an official database image.
// The commands are shell scripts run with sh -c inside the service's container: they read
// the service's own environment there ("$POSTGRES_USER"), so secret values never appear
// in the plan, in argv or in our output. Dumps are plain text or the tool's own
// uncompressed archive so restic can deduplicate them.
type preset struct {
	// ext is the snapshot file's extension after the service name.
	ext string
	// dump and restore build the scripts; path is the preset's path setting (sqlite).
	dump, restore func(path string) string
	// restoreNote explains a missing or partial restore.
	restoreNote string
	// needsPath is true when the preset needs x-backup.path.
	needsPath string
	// needsEnv lists variables of which the service's environment must set one.
	needsEnv []string
}

// presetOrder is the order presets are listed in messages and docs.
var presetOrder = []string{"postgres", "mysql", "mariadb", "mongodb", "redis", "sqlite"}

// presets are the known presets by name.
var presets = map[string]preset{
	"postgres": {
		ext:     "sql",
		dump:    func(string) string { return postgresDump },
		restore: func(string) string { return postgresRestore },
	},
	"mysql": {
		ext:      "sql",
		dump:     func(string) string { return mysqlPassword("MYSQL", "MARIADB") + mysqlDump },
		restore:  func(string) string { return mysqlPassword("MYSQL", "MARIADB") + mysqlRestore },
		needsEnv: mysqlEnv,
	},
	"mariadb": {
		ext:      "sql",
		dump:     func(string) string { return mysqlPassword("MARIADB", "MYSQL") + mysqlDump },
		restore:  func(string) string { return mysqlPassword("MARIADB", "MYSQL") + mysqlRestore },
		needsEnv: mysqlEnv,
	},
	"mongodb": {
		ext:     "archive",
		dump:    func(string) string { return mongoAuth + "mongodump --quiet --archive \"$@\"" },
		restore: func(string) string { return mongoAuth + "mongorestore --quiet --archive --drop \"$@\"" },
	},
	"redis": {
		ext:     "rdb",
		dump:    func(string) string { return redisDump },
		restore: nil,
		restoreNote: "redis cannot load an RDB file into a running server: restore it by stopping the " +
			"service and putting the file back as its dump.rdb (or back the data volume up with strategy volumes)",
	},
	"sqlite": {
		ext:       "sql",
		needsPath: "the database file inside the container, e.g. /data/app.db",
		dump:      func(path string) string { return "exec sqlite3 " + ShellQuote(path) + " .dump" },
		restore: func(path string) string {
			// Load into a fresh file, then copy it in with sqlite's backup API, which is
			// safe while the application holds the database open.
			return `set -e; tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT; sqlite3 -bail "$tmp"; ` +
				`sqlite3 ` + ShellQuote(path) + ` ".restore $tmp"`
		},
	},
}

// postgresDump dumps the whole cluster: roles, then every database with --clean so that
// a restore replaces what changed since.
const postgresDump = `PGPASSWORD="${POSTGRES_PASSWORD:-}" exec pg_dumpall --clean --if-exists --username="${POSTGRES_USER:-postgres}"`

// postgresRestore feeds the dump to psql with ON_ERROR_STOP, after three edits of the
// cluster part (before the first \connect): pg_dumpall drops and recreates every role,
// which fails for the role we are connected as, so roles are kept and created only when
// missing; and DROP DATABASE fails while the application is connected, so it is forced.
const postgresRestore = `sed -e '1,/^\\connect /{' ` +
	`-e '/^DROP ROLE IF EXISTS /d' ` +
	`-e 's/^CREATE ROLE \(.*\);$/DO $r$BEGIN CREATE ROLE \1; EXCEPTION WHEN duplicate_object THEN NULL; END$r$;/' ` +
	`-e 's/^DROP DATABASE IF EXISTS \(.*\);$/DROP DATABASE IF EXISTS \1 WITH (FORCE);/' ` +
	`-e '}' | PGPASSWORD="${POSTGRES_PASSWORD:-}" psql -X -q -v ON_ERROR_STOP=1 ` +
	`--username="${POSTGRES_USER:-postgres}" --dbname=postgres >/dev/null`

// mysqlEnv are the variables that let the dump log in as root.
var mysqlEnv = []string{
	"MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD_FILE",
	"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
}

// mysqlPassword exports the root password as MYSQL_PWD, read from the image's variables
// (first, then second prefix, then their _FILE forms), so it is never in argv.
func mysqlPassword(first, second string) string {
	return `pw="${` + first + `_ROOT_PASSWORD:-${` + second + `_ROOT_PASSWORD:-}}"; ` +
		`f="${` + first + `_ROOT_PASSWORD_FILE:-${` + second + `_ROOT_PASSWORD_FILE:-}}"; ` +
		`if [ -z "$pw" ] && [ -n "$f" ]; then pw=$(cat "$f"); fi; export MYSQL_PWD="$pw"; ` +
		`if command -v mariadb >/dev/null 2>&1; then cli=mariadb dump=mariadb-dump; else cli=mysql dump=mysqldump; fi; `
}

// mysqlDump dumps every application database with DROP DATABASE first, so a restore
// replaces them whole; the system schemas (users, grants) are left to the image.
const mysqlDump = `dbs=$("$cli" -uroot -N -B -e "SELECT schema_name FROM information_schema.schemata ` +
	`WHERE schema_name NOT IN ('mysql','information_schema','performance_schema','sys')"); ` +
	`if [ -z "$dbs" ]; then echo '-- no databases'; exit 0; fi; ` +
	`exec "$dump" -uroot --databases $dbs --add-drop-database --single-transaction --routines --events --triggers`

// mysqlRestore replays the dump.
const mysqlRestore = `exec "$cli" -uroot`

// mongoAuth sets the arguments that log in as the image's root user, if it has one; the
// password goes through a temporary --config file, never argv.
const mongoAuth = `set -e; set --; ` +
	`if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ]; then ` +
	`pw="${MONGO_INITDB_ROOT_PASSWORD:-}"; ` +
	`if [ -z "$pw" ] && [ -n "${MONGO_INITDB_ROOT_PASSWORD_FILE:-}" ]; then pw=$(cat "$MONGO_INITDB_ROOT_PASSWORD_FILE"); fi; ` +
	`umask 077; cfg=$(mktemp); trap 'rm -f "$cfg"' EXIT; ` +
	`printf "password: '%s'\n" "$(printf '%s' "$pw" | sed "s/'/''/g")" >"$cfg"; ` +
	`set -- --username="$MONGO_INITDB_ROOT_USERNAME" --authenticationDatabase=admin --config="$cfg"; fi; `

// redisDump streams an RDB snapshot; REDIS_PASSWORD (bitnami and common setups) becomes
// REDISCLI_AUTH, which redis-cli reads without argv.
const redisDump = `if [ -n "${REDIS_PASSWORD:-}" ]; then export REDISCLI_AUTH="$REDIS_PASSWORD"; fi; exec redis-cli --rdb -`

// isPreset reports whether name is a known preset.
func isPreset(name string) bool {
	_, ok := presets[name]
	return ok
}

// presetNames lists the presets in their documented order.
func presetNames() []string { return presetOrder }

// applyPreset fills a dump spec from a preset where the declaration leaves it empty, and
// checks the preset's needs against the declaration and the service.
func applyPreset(d *decoder, base, service string, sd serviceDecl, svc types.ServiceConfig, spec *DumpSpec) {
	p := presets[sd.Preset]
	if p.needsPath != "" && sd.Path == "" {
		d.probs.addf(base+".path", "required by preset %s (%s)", sd.Preset, p.needsPath)
		return
	}
	if p.needsPath == "" && sd.Path != "" {
		d.probs.addf(base+".path", "not used by preset %s", sd.Preset)
	}
	if len(p.needsEnv) > 0 && sd.Dump == nil && !hasAnyEnv(svc, p.needsEnv) {
		d.probs.addf(base, "preset %s logs in as root: services.%s.environment needs %s or %s (or a _FILE or ALLOW_EMPTY variant)",
			sd.Preset, service, p.needsEnv[0], p.needsEnv[1])
	}
	if spec.Command == nil {
		spec.Command = []string{"sh", "-c", p.dump(sd.Path)}
	}
	if spec.Restore == nil && p.restore != nil {
		spec.Restore = []string{"sh", "-c", p.restore(sd.Path)}
	}
	if spec.Restore == nil {
		spec.RestoreNote = p.restoreNote
	}
	if spec.Filename == "" {
		spec.Filename = service + "." + p.ext
	}
}

// hasAnyEnv reports whether the service's environment sets one of names.
func hasAnyEnv(svc types.ServiceConfig, names []string) bool {
	for _, n := range names {
		if _, ok := svc.Environment[n]; ok {
			return true
		}
	}
	return false
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
