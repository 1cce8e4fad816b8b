package backup

import (
	"encoding/binary"
	"errors"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine/enginetest"
)

var (
	pgCheck     = &composeext.DumpCheck{Tool: "pg_dumpall", End: "-- PostgreSQL database cluster dump complete"}
	mysqlCheck  = &composeext.DumpCheck{Tool: "mariadb-dump/mysqldump", End: "-- Dump completed"}
	sqliteCheck = &composeext.DumpCheck{Tool: "sqlite3 .dump", End: "COMMIT;"}
	rdbCheck    = &composeext.DumpCheck{Tool: "redis-cli --rdb", Head: "REDIS", RDB: true}
)

// pgDumpEnd is how pg_dumpall ends a cluster dump (newer versions add \unrestrict).
const pgDumpEnd = "--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n" +
	"--\n-- PostgreSQL database cluster dump complete\n--\n\n"

// rdb builds an RDB file around body with a correct trailer.
func rdb(body string) string {
	data := []byte("REDIS0011" + body + "\xff")
	crc := ^crc64.Update(^uint64(0), redisCRC, data)
	return string(binary.LittleEndian.AppendUint64(data, crc))
}

// checkStream writes s through a checker in chunks of size n and returns its verdict.
func checkStream(check *composeext.DumpCheck, s string, n int) error {
	c := newDumpChecker(check, io.Discard)
	for len(s) > 0 {
		k := min(n, len(s))
		if _, err := c.Write([]byte(s[:k])); err != nil {
			return err
		}
		s = s[k:]
	}
	return c.Err()
}

func TestRedisCRCMatchesRedis(t *testing.T) {
	// Redis's own test vector (src/crc64.c).
	if got := ^crc64.Update(^uint64(0), redisCRC, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Errorf("crc64(123456789) = %016x, want e9c6d914c4b8d9ca", got)
	}
}

func TestDumpCheck(t *testing.T) {
	long := strings.Repeat("INSERT INTO t VALUES (1);\n", 1000)
	good := rdb("\xfe\x00\xfb\x01\x00\x00\x01k\x01v")
	for _, tc := range []struct {
		name  string
		check *composeext.DumpCheck
		dump  string
		want  error // nil, errCutOff or errNotFormat
	}{
		{"pg_dumpall whole", pgCheck, "SET x;\n" + long + pgDumpEnd, nil},
		{"pg_dumpall with trailing blanks", pgCheck, long + pgDumpEnd + "\n \n\t\n", nil},
		{"pg_dumpall cut after one database", pgCheck, long + "--\n-- PostgreSQL database dump complete\n--\n\n", errCutOff},
		{"pg_dumpall cut mid-line", pgCheck, long + "INSERT INTO t VAL", errCutOff},
		{"pg_dumpall cut in its marker", pgCheck, long + "--\n-- PostgreSQL database cluster dump", errCutOff},
		{"mysqldump whole", mysqlCheck, long + "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed on 2026-11-25 17:00:00\n", nil},
		{"mysqldump with CRLF", mysqlCheck, long + "-- Dump completed on 2026-11-25 17:00:00\r\n\r\n", nil},
		{"mysqldump cut", mysqlCheck, long + "--\n-- Dumping data for table `t`\n--\n", errCutOff},
		{"allow_empty mysql dump", mysqlCheck, "-- no database besides the system schemas (allow_empty)\n-- Dump completed: nothing to dump\n", nil},
		{"sqlite whole", sqliteCheck, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n" + long + "COMMIT;\n", nil},
		{"sqlite with errors", sqliteCheck, "BEGIN TRANSACTION;\n" + long + "ROLLBACK; -- due to errors\n", errCutOff},
		{"sqlite cut", sqliteCheck, "BEGIN TRANSACTION;\n" + long, errCutOff},
		{"only a marker far back", sqliteCheck, "COMMIT;\n" + strings.Repeat("--\n", 3000), errCutOff},
		{"rdb whole", rdbCheck, good, nil},
		{"rdb empty server", rdbCheck, rdb(""), nil},
		{"rdb without checksum", rdbCheck, "REDIS0011\xfe\x00\xff\x00\x00\x00\x00\x00\x00\x00\x00", nil},
		{"rdb cut", rdbCheck, good[:len(good)-4], errCutOff},
		{"rdb cut before its end", rdbCheck, good[:12], errCutOff},
		{"rdb with a wrong checksum", rdbCheck, good[:12] + "X" + good[13:], errCutOff},
		{"rdb with redis-cli's diskless EOF mark", rdbCheck, good + strings.Repeat("0123456789abcdef", 3)[:40], nil},
		{"rdb cut in its EOF mark", rdbCheck, good + "0123456789abcdef", errCutOff},
		{"rdb with other bytes after its end", rdbCheck, good + strings.Repeat("m", 40), errCutOff},
		{"rdb with a mark but a wrong checksum", rdbCheck, good[:12] + "X" + good[13:] + strings.Repeat("a", 40), errCutOff},
		{"not an rdb", rdbCheck, "ERR unknown command\n", errNotFormat},
		{"no check", nil, "anything", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 7, 4096, 1 << 20} {
				err := checkStream(tc.check, tc.dump, chunk)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("chunks of %d: got %v, want %v", chunk, err, tc.want)
				}
			}
		})
	}
}

// TestDumpCheckRealRDB checks streams that redis-cli --rdb - of Redis 7.0 wrote: with
// diskless replication (the server's default), followed by its EOF mark, and without.
func TestDumpCheckRealRDB(t *testing.T) {
	for _, name := range []string{"redis-cli-diskless.rdb", "redis-cli-disk.rdb"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkStream(rdbCheck, string(b), 100); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := checkStream(rdbCheck, string(b[:len(b)-1]), 100); !errors.Is(err, errCutOff) {
			t.Errorf("%s without its last byte: %v, want cut off", name, err)
		}
	}
}

func TestDumpCheckMessageNamesToolAndMarker(t *testing.T) {
	err := checkStream(pgCheck, "SELECT 1;\n", 4096)
	want := `the dump ended without pg_dumpall's end marker "-- PostgreSQL database cluster dump complete": it was cut off`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// checkedDump is the db dump service with a check, as a preset would set it.
func checkedDump(check *composeext.DumpCheck) composeext.ServicePlan {
	svc := dumpService("pg_dumpall")
	svc.Dump.Check = check
	return svc
}

func TestUpDumpWithoutEndMarkerIsNotStored(t *testing.T) {
	for name, tc := range map[string]struct {
		stdout, stderr string
		ok             bool
	}{
		"whole":                    {stdout: "CREATE TABLE notes;\n" + pgDumpEnd + "\n\n", ok: true},
		"cut off, exit 0":          {stdout: "CREATE TABLE notes;\nINSERT INTO notes VALUES (1, 'a"},
		"cut off, stderr kept too": {stdout: "CREATE TABLE notes;\n", stderr: "pg_dump: warning: connection lost\n"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
			f.execs["pg_dumpall"] = fakeExec{stdout: tc.stdout, stderr: tc.stderr}
			results, _, _ := f.up(t, testPlan(checkedDump(pgCheck)), Options{Parallel: 1})
			r := results[0]
			backups := f.rst.Find("backup")
			if len(backups) != 1 {
				t.Fatalf("restic ran %v, want one backup", f.rst.Commands())
			}
			if tc.ok {
				if r.Status != StatusOK || backups[0].StdinErr != nil || backups[0].Stdin != tc.stdout {
					t.Fatalf("result %+v, restic read %q (%v): want ok with the whole dump", r, backups[0].Stdin, backups[0].StdinErr)
				}
				return
			}
			if r.Status != StatusFailed || !errors.Is(r.Err, errCutOff) {
				t.Fatalf("result %+v, want failed because the dump was cut off", r)
			}
			// restic read every byte but must see its input fail, never end: that is
			// what keeps it from committing.
			if backups[0].StdinErr == nil {
				t.Errorf("restic's input ended cleanly after a dump without its end marker: a snapshot would be committed")
			}
			if !strings.Contains(r.Err.Error(), `pg_dumpall's end marker "-- PostgreSQL database cluster dump complete": it was cut off`) {
				t.Errorf("error %q does not name the tool and its marker", r.Err)
			}
			if tc.stderr != "" && !strings.Contains(r.Err.Error(), "connection lost") {
				t.Errorf("error %q lacks the dump's stderr", r.Err)
			}
			if tags := f.rst.Find("tag"); len(tags) != 0 {
				t.Errorf("a dump without its end marker was confirmed: %v", f.rst.Commands())
			}
		})
	}
}
