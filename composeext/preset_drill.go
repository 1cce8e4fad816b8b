package composeext

// The presets' scripts for the restore drill: a readiness probe and a default check, run
// in a throwaway copy of the service once its dump is loaded there. They log in as the
// restore does (the drill has given the copy throwaway passwords), begin with failWith
// like the other scripts, and a check prints one line of what it found or fails with one
// line. A check takes the database names found in the dump as its arguments; given none
// (a dump of the user's own, in a format the drill cannot read), it checks what the
// server holds instead.

// drillArg0 is $0 of a drill script run with sh -c, before the database names.
const drillArg0 = "docker-backup-verify"

// namesFromServer lists the databases with the command in dbs (after toolErr) when the
// script was given none, splitting them on newlines only, so that a name may hold spaces.
func namesFromServer(dbs, what string) string {
	return `if [ $# -eq 0 ]; then dbs=$(` + dbs + ` 2>"$err") || fail "` + what + `$(why)"; ` +
		"set -f; IFS='\n'; set -- $dbs; unset IFS; set +f; fi; "
}

// toolErr keeps the tools' stderr in a file, so that a check fails with one line: ours,
// ending with the tool's last line (why), not the tool's lines and then ours.
const toolErr = `err=$(mktemp) || exit 1; trap 'rm -f "$err"' EXIT; ` +
	`why() { w=$(sed -n '/./h; ${x;p;}' "$err"); [ -z "$w" ] || printf ': %s' "$w"; }; `

// tablesWord defines tables, which says "1 table" or "N tables".
const tablesWord = `tables() { if [ "$1" = 1 ]; then echo "1 table"; else echo "$1 tables"; fi; }; `

// drillEmpty ends a check that found no database: a failure, or with allow_empty a line.
func drillEmpty(o presetOptions, none string) string {
	if o.allowEmpty {
		return `[ -n "$found" ] || { echo "` + none + ` (allow_empty)"; exit 0; }; `
	}
	return `[ -n "$found" ] || fail "` + none + ` after the restore"; `
}

// postgresReady asks the server on 127.0.0.1: while the image's entrypoint initialises
// fresh volumes it runs a server on the socket only, then restarts it; only the final
// server listens on TCP. pg_isready does not log in.
const postgresReady = `exec pg_isready -q -h 127.0.0.1 -U "${POSTGRES_USER:-postgres}" -d postgres`

// postgresVerify checks that each named database exists and holds a table outside the
// system schemas; postgres, which every cluster has, is only counted when it holds one
// (an application may keep its tables there). Names travel as psql variables (:'db') and PGDATABASE, never in SQL
// text or a connection string, so any name is safe.
func postgresVerify(o presetOptions) string {
	return postgresLogin + toolErr + tablesWord +
		`q() { psql -X -A -t -q -v ON_ERROR_STOP=1 --username="$u" "$@"; }; ` +
		namesFromServer(`q --dbname=postgres -c "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY datname"`,
			"could not log in as $u and list the databases") +
		`found=""; for db in "$@"; do case "$db" in template0|template1) continue ;; esac; ` +
		`n=$(echo "SELECT count(*) FROM pg_database WHERE datname = :'db';" | q --dbname=postgres -v db="$db" 2>"$err") ` +
		`|| fail "could not log in as $u and look for database $db$(why)"; ` +
		`[ "$n" = 1 ] || fail "database $db does not exist after the restore"; ` +
		`t=$(PGDATABASE="$db" q -c "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" 2>"$err") ` +
		`|| fail "could not connect to database $db$(why)"; ` +
		`case "$t" in ''|*[!0-9]*) fail "database $db: unexpected answer $t" ;; 0) [ "$db" = postgres ] && continue; fail "database $db holds no table" ;; esac; ` +
		`found="$found${found:+, }$db ($(tables "$t"))"; done; ` +
		drillEmpty(o, "no table in a database besides template0 and template1") +
		`echo "databases $found"`
}

// mysqlReady pings the server over TCP: the image's entrypoint initialises fresh volumes
// with a server that skips networking, then restarts it. The ping exits 0 once the
// server answers, even when it refuses the login, which the check then reports.
func mysqlReady(preset, first, second string) string {
	return mysqlLogin(preset, first, second) +
		`admin=mariadb-admin; [ "$cli" = mariadb ] || admin=mysqladmin; ` +
		`command -v "$admin" >/dev/null 2>&1 || fail "$admin is not in the container's PATH"; ` +
		`exec "$admin" -uroot --protocol=tcp -h127.0.0.1 ping`
}

// mysqlVerify checks that each named database exists and holds a table (views aside).
// A name is quoted as an SQL string: backslashes doubled, then single quotes.
func mysqlVerify(preset, first, second string, o presetOptions) string {
	return mysqlLogin(preset, first, second) + toolErr + tablesWord + `tab=$(printf '\t'); ` +
		namesFromServer(`"$cli" -uroot -N -B -e "SELECT schema_name FROM information_schema.schemata `+
			`WHERE schema_name NOT IN ('mysql','information_schema','performance_schema','sys') ORDER BY schema_name"`,
			"$cli could not log in as root and list the databases") +
		`found=""; for db in "$@"; do case "$db" in mysql|information_schema|performance_schema|sys) continue ;; esac; ` +
		`s=$(printf '%s' "$db" | sed -e 's/\\/\\\\/g' -e "s/'/''/g"); ` +
		`r=$("$cli" -uroot -N -B -e "SELECT (SELECT count(*) FROM information_schema.schemata WHERE schema_name = '$s'), ` +
		`(SELECT count(*) FROM information_schema.tables WHERE table_schema = '$s' AND table_type <> 'VIEW')" 2>"$err") ` +
		`|| fail "$cli could not log in as root and look for database $db$(why)"; ` +
		`e=${r%%"$tab"*}; t=${r#*"$tab"}; ` +
		`case "$e" in 1) ;; 0) fail "database $db does not exist after the restore" ;; *) fail "database $db: unexpected answer $r" ;; esac; ` +
		`case "$t" in ''|*[!0-9]*) fail "database $db: unexpected answer $r" ;; 0) fail "database $db holds no table" ;; esac; ` +
		`found="$found${found:+, }$db ($(tables "$t"))"; done; ` +
		drillEmpty(o, "no database besides mysql, information_schema, performance_schema and sys") +
		`echo "databases $found"`
}

// mongoReady pings the server; a ping needs no login.
const mongoReady = `command -v mongosh >/dev/null 2>&1 || { echo "preset mongodb: mongosh is not in the container's PATH" >&2; exit 1; }; ` +
	`exec mongosh --quiet --eval 'db.runCommand({ping: 1})'`

// mongoVerifyJS logs in as the image's root user, if any, and compares listDatabases with
// the names wanted; names and password arrive through the environment, never argv.
const mongoVerifyJS = `const sys = ["admin", "config", "local"]; ` +
	`const u = process.env.MONGO_INITDB_ROOT_USERNAME; const a = db.getSiblingDB("admin"); ` +
	`if (u) a.auth(u, process.env.DOCKER_BACKUP_PW); ` +
	`const have = a.adminCommand({listDatabases: 1}).databases.map(d => d.name).filter(n => !sys.includes(n)); ` +
	`const want = (process.env.DOCKER_BACKUP_DBS || "").split("\n").filter(n => n && !sys.includes(n)); ` +
	`const missing = want.filter(n => !have.includes(n)); ` +
	`if (missing.length) { print("database " + missing.join(", ") + " does not exist after the restore"); quit(1); } ` +
	`if (!have.length) { print("no database besides admin, config and local after the restore"); quit(1); } ` +
	`print("databases " + (want.length ? want : have).join(", "));`

// mongoVerify is a best effort: the named databases (none are found in an archive
// today) are listed by the server, or else it holds one of its own.
var mongoVerify = failWith("mongodb") +
	`command -v mongosh >/dev/null 2>&1 || fail "mongosh is not in the container's PATH"; ` +
	`DOCKER_BACKUP_DBS=$(printf '%s\n' "$@"); export DOCKER_BACKUP_DBS; ` +
	`if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ]; then ` + readSecret("DOCKER_BACKUP_PW", "MONGO_INITDB_ROOT_PASSWORD") +
	`export DOCKER_BACKUP_PW; fi; ` +
	`out=$(mongosh --quiet --eval '` + mongoVerifyJS + `' 2>&1) || fail "$(printf '%s\n' "$out" | sed -n '$p')"; ` +
	`line=$(printf '%s\n' "$out" | sed -n '/^databases /h; ${x;p;}'); ` +
	`[ -n "$line" ] || fail "mongosh answered: $(printf '%s\n' "$out" | sed -n '$p')"; echo "$line"`

// redisLogin is the redis preset's login: REDIS_PASSWORD (or its file) as REDISCLI_AUTH.
var redisLogin = failWith("redis") + readSecret("pw", "REDIS_PASSWORD") +
	`if [ -n "$pw" ]; then export REDISCLI_AUTH="$pw"; fi; `

// redisReady waits for PONG: redis-cli exits 0 on an error reply too (LOADING while
// the server reads its dump.rdb, NOAUTH).
var redisReady = redisLogin + `r=$(redis-cli ping 2>&1); [ "$r" = PONG ] || fail "redis-cli ping: $r"`

// redisLoad writes the RDB from its input next to the server's data file, turns off
// saving and the append-only file (so that the restart does not overwrite the dump),
// and puts the dump where the restarted server reads its data: its dump.rdb, or, when
// the server runs with appendonly yes, its AOF (Redis 7: a manifest whose base is the
// RDB; before: an AOF may begin with an RDB). The drill then restarts the copy.
// A dump of 40 hex digits at its very end is a dump with the EOF mark: a real RDB ends
// with a 0xFF byte and its 8-byte checksum.
var redisLoad = redisLogin + toolErr +
	`get() { redis-cli config get "$1" 2>"$err" | sed -n 2p; }; ` +
	`d=$(get dir); f=$(get dbfilename); [ -n "$d" ] && [ -n "$f" ] || fail "redis-cli could not read the server's dir and dbfilename$(why)"; ` +
	`aof=$(get appendonly); a=$(get appenddirname); af=$(get appendfilename); ` +
	`cat >"$d/$f.drill" || fail "could not write $d/$f.drill"; ` +
	`for kv in "save " "appendonly no"; do redis-cli config set ${kv%% *} "${kv#* }" >"$err" 2>&1 && grep -q OK "$err" || fail "redis-cli config set ${kv%% *}$(why)"; done; ` +
	`if [ "$aof" != yes ]; then mv "$d/$f.drill" "$d/$f" || fail "could not move the dump to $d/$f"; exit 0; fi; ` +
	// redis-cli --rdb - ends a diskless dump with its 40-character EOF mark, which the
	// RDB loader ignores and the AOF loader does not.
	`if tail -c 40 "$d/$f.drill" | grep -Eqx '[0-9a-f]{40}'; then head -c -40 "$d/$f.drill" >"$d/$f.trim" && mv "$d/$f.trim" "$d/$f.drill" || fail "could not trim the dump's EOF mark"; fi; ` +
	`if [ -n "$a" ]; then rm -rf "${d:?}/$a" && mkdir "$d/$a" && mv "$d/$f.drill" "$d/$a/$af.1.base.rdb" && : >"$d/$a/$af.1.incr.aof" && ` +
	`printf 'file %s seq 1 type b\nfile %s seq 1 type i\n' "$af.1.base.rdb" "$af.1.incr.aof" >"$d/$a/$af.manifest" || fail "could not make $d/$a the dump's AOF"; ` +
	`else mv "$d/$f.drill" "$d/$af" || fail "could not move the dump to $d/$af"; fi`

// redisVerify counts the keys of every database the server loaded from the dump.
func redisVerify(o presetOptions) string {
	s := redisLogin + toolErr +
		`ks=$(redis-cli info keyspace 2>"$err") || fail "redis-cli could not reach the server$(why)"; ` +
		`case "$ks" in *'# Keyspace'*) ;; *) fail "redis-cli could not read the keyspace: $ks" ;; esac; ` +
		`n=0; d=0; for k in $(printf '%s\n' "$ks" | sed -n 's/^db[0-9]*:keys=\([0-9]*\).*/\1/p'); do n=$((n + k)); d=$((d + 1)); done; `
	if o.allowEmpty {
		s += `[ "$n" -gt 0 ] || { echo "no key (allow_empty)"; exit 0; }; `
	} else {
		s += `[ "$n" -gt 0 ] || fail "the server holds no key after loading the dump"; `
	}
	return s + `k=keys; [ "$n" = 1 ] && k=key; w=databases; [ "$d" = 1 ] && w=database; echo "$n $k in $d $w"`
}

// sqliteVerify runs PRAGMA integrity_check on the restored file, read-only.
func sqliteVerify(o presetOptions) string {
	s := failWith("sqlite") + `p=` + ShellQuote(o.path) + `; ` + toolErr + tablesWord +
		`[ -f "$p" ] || fail "$p does not exist after the restore"; ` +
		`command -v sqlite3 >/dev/null 2>&1 || fail "sqlite3 is not in the container's PATH"; ` +
		`r=$(` + sqliteOpen + ` 'PRAGMA integrity_check' 2>"$err") || fail "sqlite3 cannot read $p as a database$(why)"; ` +
		`[ "$r" = ok ] || fail "integrity_check of $p: $(printf '%s\n' "$r" | sed -n 1p)"; ` +
		`n=$(` + sqliteOpen + ` "SELECT count(*) FROM sqlite_master WHERE type = 'table'" 2>"$err") || fail "sqlite3 cannot read $p as a database$(why)"; `
	if !o.allowEmpty {
		s += `[ "$n" != 0 ] || fail "$p holds no table after the restore"; `
	}
	return s + `echo "database $p: integrity_check ok, $(tables "$n")"`
}
