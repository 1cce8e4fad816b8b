#!/bin/sh
# Entry point of the e2e database image. It mimics the official postgres, mariadb and
# redis images closely enough for the presets: the same environment variables, data
# folders, socket paths and first-start initialisation. The first argument picks the server.
set -eu

# as_user runs a command as the named account. POSIX sh has no local variables, so it
# uses none: a caller's $user (POSTGRES_USER) must survive the call.
as_user() { _as=$1; shift; setpriv --reuid="$_as" --regid="$_as" --init-groups "$@"; }

start_postgres() {
	PGDATA=${PGDATA:-/var/lib/postgresql/data}
	export PGDATA
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		user=${POSTGRES_USER:-postgres}
		db=${POSTGRES_DB:-$user}
		pwfile=$(mktemp)
		printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
		chown postgres "$pwfile"
		as_user postgres initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
		rm -f "$pwfile"
		echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
		echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
		as_user postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
		if [ "$db" != postgres ]; then
			as_user postgres psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres -c "CREATE DATABASE \"$db\"" >/dev/null
		fi
		for f in /docker-entrypoint-initdb.d/*; do
			case "$f" in
			*.sql) as_user postgres psql -v ON_ERROR_STOP=1 --username "$user" --dbname "$db" -f "$f" >/dev/null ;;
			*.sh) . "$f" ;;
			esac
		done
		as_user postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	fi
	exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
}

start_mariadb() {
	datadir=/var/lib/mysql
	mkdir -p "$datadir" /run/mysqld
	chown -R mysql:mysql "$datadir" /run/mysqld
	if [ ! -d "$datadir/mysql" ]; then
		rootpw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
		db=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
		user=${MARIADB_USER:-${MYSQL_USER:-}}
		userpw=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
		mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal --skip-test-db >/dev/null
		mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket=/run/mysqld/mysqld.sock &
		pid=$!
		i=0
		until mariadb-admin --socket=/run/mysqld/mysqld.sock -uroot ping >/dev/null 2>&1; do
			i=$((i + 1)); [ $i -lt 300 ] || { echo "mariadb did not start" >&2; exit 1; }
			sleep 0.1
		done
		{
			echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$rootpw';"
			echo "CREATE USER 'root'@'%' IDENTIFIED BY '$rootpw';"
			echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
			[ -z "$db" ] || echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
			if [ -n "$user" ]; then
				echo "CREATE USER '$user'@'%' IDENTIFIED BY '$userpw';"
				[ -z "$db" ] || echo "GRANT ALL ON \`$db\`.* TO '$user'@'%';"
			fi
		} | mariadb --socket=/run/mysqld/mysqld.sock -uroot
		for f in /docker-entrypoint-initdb.d/*; do
			case "$f" in
			*.sql) MYSQL_PWD=$rootpw mariadb --socket=/run/mysqld/mysqld.sock -uroot ${db:+"$db"} <"$f" ;;
			*.sh) . "$f" ;;
			esac
		done
		kill "$pid"
		wait "$pid" || true
	fi
	exec mariadbd --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 "$@"
}

case "${1:-}" in
postgres) shift; start_postgres "$@" ;;
mariadbd | mysqld) shift; start_mariadb "$@" ;;
redis-server)
	shift
	mkdir -p /data
	cd /data
	exec redis-server --dir /data --protected-mode no "$@"
	;;
*) exec "$@" ;;
esac
