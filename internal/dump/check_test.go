package dump

import (
	"encoding/binary"
	"errors"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	pgCheck     = &Check{Tool: "pg_dumpall", End: "-- PostgreSQL database cluster dump complete"}
	mysqlCheck  = &Check{Tool: "mariadb-dump/mysqldump", End: "-- Dump completed"}
	sqliteCheck = &Check{Tool: "sqlite3 .dump", End: "COMMIT;"}
	rdbCheck    = &Check{Tool: "redis-cli --rdb", Head: "REDIS", RDB: true}
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
func checkStream(check *Check, s string, n int) error {
	c := NewChecker(check, io.Discard)
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
		check *Check
		dump  string
		want  error // nil, ErrCutOff or ErrNotFormat
	}{
		{"pg_dumpall whole", pgCheck, "SET x;\n" + long + pgDumpEnd, nil},
		{"pg_dumpall with trailing blanks", pgCheck, long + pgDumpEnd + "\n \n\t\n", nil},
		{"pg_dumpall cut after one database", pgCheck, long + "--\n-- PostgreSQL database dump complete\n--\n\n", ErrCutOff},
		{"pg_dumpall cut mid-line", pgCheck, long + "INSERT INTO t VAL", ErrCutOff},
		{"pg_dumpall cut in its marker", pgCheck, long + "--\n-- PostgreSQL database cluster dump", ErrCutOff},
		{"mysqldump whole", mysqlCheck, long + "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed on 2026-11-25 17:00:00\n", nil},
		{"mysqldump with CRLF", mysqlCheck, long + "-- Dump completed on 2026-11-25 17:00:00\r\n\r\n", nil},
		{"mysqldump cut", mysqlCheck, long + "--\n-- Dumping data for table `t`\n--\n", ErrCutOff},
		{"allow_empty mysql dump", mysqlCheck, "-- no database besides the system schemas (allow_empty)\n-- Dump completed: nothing to dump\n", nil},
		{"sqlite whole", sqliteCheck, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n" + long + "COMMIT;\n", nil},
		{"sqlite with errors", sqliteCheck, "BEGIN TRANSACTION;\n" + long + "ROLLBACK; -- due to errors\n", ErrCutOff},
		{"sqlite cut", sqliteCheck, "BEGIN TRANSACTION;\n" + long, ErrCutOff},
		{"only a marker far back", sqliteCheck, "COMMIT;\n" + strings.Repeat("--\n", 3000), ErrCutOff},
		{"rdb whole", rdbCheck, good, nil},
		{"rdb empty server", rdbCheck, rdb(""), nil},
		{"rdb without checksum", rdbCheck, "REDIS0011\xfe\x00\xff\x00\x00\x00\x00\x00\x00\x00\x00", nil},
		{"rdb cut", rdbCheck, good[:len(good)-4], ErrCutOff},
		{"rdb cut before its end", rdbCheck, good[:12], ErrCutOff},
		{"rdb with a wrong checksum", rdbCheck, good[:12] + "X" + good[13:], ErrCutOff},
		{"rdb with redis-cli's diskless EOF mark", rdbCheck, good + strings.Repeat("0123456789abcdef", 3)[:40], nil},
		{"rdb cut in its EOF mark", rdbCheck, good + "0123456789abcdef", ErrCutOff},
		{"rdb with other bytes after its end", rdbCheck, good + strings.Repeat("m", 40), ErrCutOff},
		{"rdb with a mark but a wrong checksum", rdbCheck, good[:12] + "X" + good[13:] + strings.Repeat("a", 40), ErrCutOff},
		{"not an rdb", rdbCheck, "ERR unknown command\n", ErrNotFormat},
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
		if err := checkStream(rdbCheck, string(b[:len(b)-1]), 100); !errors.Is(err, ErrCutOff) {
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
