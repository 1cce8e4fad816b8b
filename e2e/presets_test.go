//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// liteDB is the SQLite database of the presets scenario's lite service.
const liteDB = "/data/app.db"

// liteSQL runs SQL on lite's database, waiting for a writer's lock as an application would.
func (p *project) liteSQL(t *testing.T, sql string) string {
	t.Helper()
	return strings.TrimSpace(p.exec(t, "lite", "sqlite3", "-bail", "-cmd", ".timeout 10000", liteDB, sql))
}

// mySQL runs SQL on the my service's inventory database through the mysql name.
func (p *project) mySQL(t *testing.T, sql string) string {
	t.Helper()
	return strings.TrimSpace(p.execInput(t, "my", sql, "sh", "-c", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -N -B inventory`))
}

// storedIDs lists the IDs of every snapshot in the repository by service, with plain
// restic, unconfirmed ones too.
func (p *project) storedIDs(t *testing.T) map[string][]string {
	t.Helper()
	repo, key := p.localRepo()
	ids := map[string][]string{}
	for svc, snaps := range snapshotsByService(t, repo, key, nil) {
		ids[svc] = snapshotIDs(snaps)
	}
	return ids
}

// storedDump is the latest stored dump of a service, read back with plain restic.
func (p *project) storedDump(t *testing.T, service, file string) string {
	t.Helper()
	repo, key := p.localRepo()
	r := resticCmd(repo, key, nil, "--no-cache", "dump", "latest", "/"+file, "--tag", "service="+service).run()
	if r.code != 0 {
		t.Fatalf("reading %s back: %v", file, r)
	}
	return r.stdout
}

// checkNothingStored checks a backup that had to fail: exit code 1, a line saying
// want[service] for each service, no new snapshot in the repository (unconfirmed or
// not), none listed by docker backup snapshots, and nothing of its run left behind.
func (p *project) checkNothingStored(t *testing.T, r result, before map[string][]string, want map[string]string) {
	t.Helper()
	out := r.stdout + r.stderr
	for _, l := range lines(out) {
		if strings.Contains(l, "FAILED") {
			t.Logf("up said: %s", l)
		}
	}
	if r.code != 1 {
		t.Errorf("want exit code 1, got %v", r)
	}
	for svc, msg := range want {
		if !strings.Contains(out, svc+": FAILED: ") || !strings.Contains(out, msg) {
			t.Errorf("want %s to fail saying %q, got %v", svc, msg, r)
		}
	}
	if after := p.storedIDs(t); !maps.EqualFunc(after, before, slices.Equal) {
		t.Errorf("snapshots by service: %v, want %v as before the failed backup", after, before)
	}
	for _, row := range p.listed(t) {
		if !slices.Contains(before[row.Service], row.ID) {
			t.Errorf("docker backup snapshots lists %s of %s, written by the failed backup", row.ID, row.Service)
		}
	}
	p.checkRunEnded(t)
}

// hideMariaDBNames leaves only the mysql names of MariaDB's client tools in a
// service's container (mysql and mysqldump become the programs they pointed to), as in
// an image of MySQL, whose tools have no mariadb names.
const hideMariaDBNames = `set -e
for n in mysql mysqldump; do
	f=$(readlink -f /usr/bin/$n)
	[ "$f" = /usr/bin/$n ] || cp --remove-destination "$f" /usr/bin/$n
done
rm -f /usr/bin/mariadb /usr/bin/mariadb-dump
! command -v mariadb && ! command -v mariadb-dump && command -v mysqldump`

// cutOffDump puts a stand-in in front of mariadb-dump: it holds the real tool's output
// after 64 KiB until the test has killed the tool, and then exits 0 whatever happened,
// as a careless wrapper script would. Only the format's end marker can then tell.
const cutOffDump = `set -e
mv /usr/bin/mariadb-dump /usr/bin/mariadb-dump.real
cat >/usr/bin/mariadb-dump <<'EOF'
#!/bin/sh
{ /usr/bin/mariadb-dump.real "$@" & echo $! >/tmp/dump.pid; wait; } |
	{ head -c 65536; : >/tmp/dump-streaming; until [ -e /tmp/dump-go ]; do sleep 0.1; done; cat; }
exit 0
EOF
chmod 755 /usr/bin/mariadb-dump`

// sqliteWriter inserts a row into lite's log table after another until /tmp/stop-writer exists.
const sqliteWriter = `i=0; while [ ! -e /tmp/stop-writer ]; do i=$((i + 1)); ` +
	`sqlite3 -bail -cmd '.timeout 10000' ` + liteDB + ` "INSERT INTO log (body) VALUES ('write $i')" || exit 1; done`

// TestPresets backs up a server of every preset the e2e database image has, each with
// its preset, in one up; restores the ones whose preset restores; checks the data that
// came back, the stored RDB and SQLite's integrity; then makes each preset fail the ways
// issue 9 found them lying (a rotated password, an empty server, a wrong path, a dump
// cut off) and checks that nothing was stored. The subtests share one project, in order.
func TestPresets(t *testing.T) {
	t.Parallel()
	p := newProject(t, "presets")
	p.exec(t, "my", "sh", "-c", hideMariaDBNames)

	p.pgSQL(t, "pg", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 2000) g;")
	// Enough rows (about 2 MB of dump) that a dump cut after 128 KiB is far from its end.
	p.mariaSQL(t, "CREATE TABLE items (id int PRIMARY KEY, name varchar(40)); "+
		"INSERT INTO items SELECT seq, CONCAT('item ', seq, ' ', REPEAT('x', 25)) FROM seq_1_to_40000;")
	p.mySQL(t, "CREATE TABLE parts (id int PRIMARY KEY, name varchar(40)); INSERT INTO parts VALUES (1, 'bolt'), (2, 'nut'), (3, 'washer');")
	p.exec(t, "cache", "redis-cli", "eval", "for i = 1, 1000 do redis.call('set', 'key:' .. i, 'value ' .. i) end", "0")
	p.liteSQL(t, "PRAGMA journal_mode = wal; CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE log (id INTEGER PRIMARY KEY, body TEXT); "+
		"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 300) INSERT INTO notes SELECT i, 'note ' || i FROM g;")
	pgWant, shopWant := p.pgRows(t, "pg"), p.mariaRows(t)
	myWant := p.mySQL(t, "SELECT GROUP_CONCAT(CONCAT(id, ':', name) ORDER BY id) FROM parts")
	notesWant := p.liteSQL(t, "SELECT count(*) || ' ' || group_concat(id || ':' || body, ',') FROM notes")

	// The writer runs while lite is dumped.
	writer := p.start(t, nil, "docker", "exec", p.container(t, "lite"), "sh", "-c", sqliteWriter)
	eventually(t, time.Minute, "the writer's first rows", func() error {
		if n := p.liteSQL(t, "SELECT count(*) FROM log"); n == "0" {
			return errors.New("no row yet")
		}
		return nil
	})
	logBefore, _ := strconv.Atoi(p.liteSQL(t, "SELECT count(*) FROM log"))
	start := time.Now()
	up := p.backup(t, "up", "--json")
	t.Logf("up of five presets took %s", time.Since(start).Round(time.Millisecond))
	p.exec(t, "lite", "touch", "/tmp/stop-writer")
	if r := writer.wait(t, time.Minute); r.code != 0 {
		t.Fatalf("the writer failed while lite was dumped: %v", r)
	}
	if up.code != 0 {
		t.Fatalf("up: %v", up)
	}
	done := doneEvents(t, up.stdout)
	for _, svc := range []string{"pg", "shop", "my", "cache", "lite"} {
		if done[svc].Status != "ok" {
			t.Errorf("service %s ended %q, want ok (%+v)", svc, done[svc].Status, done[svc])
		}
	}

	t.Run("the mysql preset went through the mysql names", func(t *testing.T) {
		if r := p.tryExec(t, "my", "", "sh", "-c", "command -v mariadb || command -v mariadb-dump"); r.code == 0 {
			t.Fatalf("my still has a mariadb name: %s", r.stdout)
		}
		if dump := p.storedDump(t, "my", "my.sql"); !strings.Contains(dump, "(3,'washer')") || !strings.Contains(dump, "-- Dump completed") {
			t.Errorf("my.sql lacks the parts rows or its end marker:\n%.300s", dump)
		}
	})

	t.Run("the stored redis dump is a whole RDB file", func(t *testing.T) {
		rdb := p.storedDump(t, "cache", "cache.rdb")
		if !strings.HasPrefix(rdb, "REDIS") {
			t.Fatalf("cache.rdb begins with %q, want REDIS", rdb[:min(len(rdb), 9)])
		}
		check := cmdSpec{argv: []string{"docker", "run", "--rm", "-i", "--network", "none", "--name", runPrefix + "rdb" + randomHex(3),
			"--entrypoint", "sh", env.dbImage, "-c", "cat >/tmp/dump.rdb && redis-check-rdb /tmp/dump.rdb"}, stdin: rdb}.run()
		if check.code != 0 || !strings.Contains(check.stdout, "RDB looks OK") || !strings.Contains(check.stdout, "1000 keys read") {
			t.Errorf("redis-check-rdb on the stored dump: %v", check)
		}
	})

	t.Run("restore brings every database back", func(t *testing.T) {
		logDumped := strings.Count(p.storedDump(t, "lite", "lite.sql"), "INSERT INTO log VALUES(")
		logLive := p.liteSQL(t, "SELECT count(*) FROM log")
		t.Logf("lite's log: %d rows when up began, %d in the dump, %s when the writer stopped", logBefore, logDumped, logLive)
		if logDumped < logBefore {
			t.Errorf("the dump holds %d log rows, fewer than the %d before up began", logDumped, logBefore)
		}
		p.pgSQL(t, "pg", "INSERT INTO notes VALUES (9999, 'damage'); DROP TABLE notes;")
		p.mariaSQL(t, "DROP TABLE items;")
		p.mySQL(t, "DELETE FROM parts WHERE id = 2; INSERT INTO parts VALUES (9, 'damage');")
		p.liteSQL(t, "DELETE FROM notes WHERE id > 10; INSERT INTO log (body) VALUES ('after the backup');")

		p.mustBackup(t, "restore", "pg", "shop", "my", "lite", "--yes")
		if got := p.pgRows(t, "pg"); got != pgWant {
			t.Errorf("postgres: %s, want %s", got, pgWant)
		}
		if got := p.mariaRows(t); got != shopWant {
			t.Errorf("mariadb: %s, want %s", got, shopWant)
		}
		if got := p.mySQL(t, "SELECT GROUP_CONCAT(CONCAT(id, ':', name) ORDER BY id) FROM parts"); got != myWant {
			t.Errorf("mysql: %s, want %s", got, myWant)
		}
		if got := p.liteSQL(t, "PRAGMA integrity_check"); got != "ok" {
			t.Errorf("sqlite integrity_check after restore: %s", got)
		}
		if got := p.liteSQL(t, "SELECT count(*) || ' ' || group_concat(id || ':' || body, ',') FROM notes"); got != notesWant {
			t.Errorf("sqlite notes: %.80s, want %.80s", got, notesWant)
		}
		got := p.liteSQL(t, "SELECT count(*) FROM log")
		if got != strconv.Itoa(logDumped) || logDumped == 0 {
			t.Errorf("sqlite log has %s rows after restore, want the %d of the dump (%s live before the restore)", got, logDumped, logLive)
		}
	})

	t.Run("a dump cut off mid-stream is not stored even when the command exits 0", func(t *testing.T) {
		p.exec(t, "shop", "sh", "-c", cutOffDump)
		before := p.storedIDs(t)
		s := p.start(t, nil, "docker", "backup", "up", "shop")
		eventually(t, 2*time.Minute, "mariadb-dump to stream", func() error {
			if r := p.tryExec(t, "shop", "", "test", "-e", "/tmp/dump-streaming"); r.code != 0 {
				return errors.New("not yet")
			}
			return nil
		})
		p.exec(t, "shop", "sh", "-c", `kill -KILL "$(cat /tmp/dump.pid)" && touch /tmp/dump-go`)
		r := s.wait(t, 2*time.Minute)
		p.checkNothingStored(t, r, before, map[string]string{
			"shop": `the dump ended without mariadb-dump/mysqldump's end marker "-- Dump completed": it was cut off`,
		})
		p.exec(t, "shop", "mv", "/usr/bin/mariadb-dump.real", "/usr/bin/mariadb-dump")
	})

	// One up for three failures, to keep the test short; each service fails on its own.
	t.Run("a rotated password, an empty redis and a wrong sqlite path each fail with nothing stored", func(t *testing.T) {
		// The service's MARIADB_ROOT_PASSWORD no longer logs in: this subtest comes last.
		p.mariaSQL(t, "ALTER USER 'root'@'localhost' IDENTIFIED BY 'rotated'; ALTER USER 'root'@'%' IDENTIFIED BY 'rotated';")
		p.exec(t, "cache", "redis-cli", "flushall")
		before := p.storedIDs(t)
		r := p.backup(t, "-f", "compose.yaml", "-f", "compose.wrong-path.yaml", "up", "shop", "cache", "lite")
		p.checkNothingStored(t, r, before, map[string]string{
			"shop":  "preset mariadb: mariadb could not log in as root and list the databases",
			"cache": "preset redis: the server holds no key (set x-backup.allow_empty: true if that is expected)",
			"lite":  "preset sqlite: /data/wrong.db does not exist (x-backup.path)",
		})
		if !strings.Contains(r.stdout, "Access denied for user 'root'") {
			t.Errorf("shop's error does not show the server's answer: %v", r)
		}
		if ls := p.exec(t, "lite", "ls", "-A", "/data"); strings.Contains(ls, "wrong") {
			t.Errorf("the failed dump created a file in lite's volume: %s", ls)
		}
	})

	for svc, ids := range p.storedIDs(t) {
		if len(ids) != 1 {
			t.Errorf("%s has %d snapshots, want the 1 of the successful up", svc, len(ids))
		}
	}
	if t.Failed() {
		t.Logf("the first up said:\n%s", fmt.Sprint(up))
	}
}
