package dump

import (
	"bytes"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// pgDumpall is the shape of pg_dumpall --clean --if-exists of PostgreSQL 16 with
// databases appdb, "My Shop", AppDB and it's "x": names that fmtId leaves bare, quotes,
// or that \connect writes as a quoted connection string.
const pgDumpall = `--
-- PostgreSQL database cluster dump
--

\restrict 3fQ

SET default_transaction_read_only = off;

--
-- Drop databases (except postgres and template1)
--

DROP DATABASE IF EXISTS appdb;
DROP DATABASE IF EXISTS "My Shop";

--
-- Roles
--

CREATE ROLE app;
ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN;

--
-- Databases
--

--
-- Database "template1" dump
--

\connect template1

--
-- PostgreSQL database dump complete
--

--
-- Database "appdb" dump
--

--
-- Name: appdb; Type: DATABASE; Schema: -; Owner: app
--

CREATE DATABASE appdb WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'en_US.utf8';


ALTER DATABASE appdb OWNER TO app;

\connect appdb

SET statement_timeout = 0;

COPY public.notes (id, body) FROM stdin;
1	CREATE DATABASE bogus;
2	USE ` + "`bogus`" + `;
\.

CREATE DATABASE "My Shop" WITH TEMPLATE = template0 ENCODING = 'UTF8';

\connect -reuse-previous=on "dbname='My Shop'"

\connect "AppDB"

CREATE DATABASE "it's ""x""" WITH TEMPLATE = template0;

\connect -reuse-previous=on "dbname='it\'s ""x""'"

--
-- Database "postgres" dump
--

\connect postgres

--
-- PostgreSQL database cluster dump complete
--
`

// mariadbDump is the shape of mariadb-dump --databases shop "my shop" we`ird.
const mariadbDump = "-- MariaDB dump 10.19-11.4.2-MariaDB, for debian-linux-gnu (x86_64)\n" +
	"--\n-- Host: localhost    Database: \n" +
	"-- ------------------------------------------------------\n" +
	"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n" +
	"--\n-- Current Database: `shop`\n--\n\n" +
	"/*!40000 DROP DATABASE IF EXISTS `shop`*/;\n\n" +
	"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci */;\n\n" +
	"USE `shop`;\n" +
	"INSERT INTO `orders` VALUES (1,'USE `nope`;'),(2,'x');\n" +
	"--\n-- Current Database: `my shop`\n--\n\n" +
	"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `my shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\r\n" +
	"USE `my shop`;\r\n" +
	"CREATE DATABASE IF NOT EXISTS `we``ird`;\n" +
	"USE `we``ird`;\n" +
	"-- Dump completed on 2026-12-01 10:00:00\n"

// scanNames writes s through a NameScanner in chunks of n bytes.
func scanNames(t *testing.T, s string, n int) []string {
	t.Helper()
	var out bytes.Buffer
	sc := NewNameScanner(&out)
	for rest := s; len(rest) > 0; {
		k := min(n, len(rest))
		if _, err := sc.Write([]byte(rest[:k])); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	if out.String() != s {
		t.Fatalf("chunks of %d: the stream did not pass through whole", n)
	}
	return sc.Names()
}

func TestNameScanner(t *testing.T) {
	longRow := strings.Repeat("x", 3*nameLineMax)
	longCopy := "COPY public.wide (" + strings.Repeat("c, ", 2*nameLineMax) + "z) FROM stdin;\n"
	for _, tc := range []struct {
		name, dump string
		want       []string
	}{
		{"pg_dumpall", pgDumpall, []string{"template1", "appdb", "My Shop", "AppDB", `it's "x"`, "postgres"}},
		{"mariadb-dump", mariadbDump, []string{"shop", "my shop", "we`ird"}},
		{"a long line before a name", "INSERT INTO `t` VALUES ('" + longRow + "');\nUSE `after`;\n", []string{"after"}},
		{"a long line that begins like a name", "USE `" + longRow + "`;\nUSE `b`;\n", []string{"b"}},
		{"a COPY header longer than a line is kept", longCopy + "CREATE DATABASE bogus;\n\\.\n\\connect real\n", []string{"real"}},
		{"a COPY row longer than a line", "COPY t (a) FROM stdin;\n" + longRow + "\n\\.\n\\connect real\n", []string{"real"}},
		{"the last line without its newline", "USE `a`;\nUSE `b`;", []string{"a", "b"}},
		{"a name cut off in its quotes", "USE `unfinished", nil},
		{"psql's other \\connect forms", "\\connect - app\n\\connect -reuse-previous=on \"host=db\"\n", nil},
		{"keywords in lower case are not the tools'", "use the index;\ncreate database x;\n", nil},
		{"sqlite", "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\nCOMMIT;\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{1, 7, 100, 4096, 1 << 20} {
				if got := scanNames(t, tc.dump, n); !slices.Equal(got, tc.want) {
					t.Fatalf("chunks of %d: got %q, want %q", n, got, tc.want)
				}
			}
		})
	}
}

func TestNameScannerBoundsMemory(t *testing.T) {
	sc := NewNameScanner(&bytes.Buffer{})
	row := []byte(strings.Repeat("y", 1<<16))
	for range 64 {
		if _, err := sc.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if len(sc.line) > nameLineMax || len(sc.tail) > nameLineTail {
		t.Errorf("a 4 MiB line kept %d+%d bytes", len(sc.line), len(sc.tail))
	}
	var b strings.Builder
	for i := range namesMax + 10 {
		b.WriteString("USE `db" + strings.Repeat("0", i%3) + string(rune('a'+i%26)) + "`;\n")
		b.WriteString("\\connect d" + strings.Repeat("x", i) + "\n")
	}
	sc = NewNameScanner(&bytes.Buffer{})
	if _, err := sc.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	if n := len(sc.Names()); n != namesMax {
		t.Errorf("kept %d names, want at most %d", n, namesMax)
	}
}

// BenchmarkNameScanner streams a 64 MiB pg_dumpall (a COPY block of 40 MiB of rows,
// then INSERT lines) through the scanner in 64 KiB writes, as a drill's dump restore
// does, and through CRC-32 (reading each byte once), the baseline measured in the same
// run: scanning_ratio is the scanner's time over the baseline's.
func BenchmarkNameScanner(b *testing.B) {
	var dump bytes.Buffer
	dump.WriteString(pgDumpall)
	dump.WriteString("\\connect appdb\nCOPY public.t (id, body) FROM stdin;\n")
	row := strings.Repeat("x", 150)
	for dump.Len() < 40<<20 {
		dump.WriteString("123456\t" + row + "\n")
	}
	dump.WriteString("\\.\n")
	for dump.Len() < 64<<20 {
		dump.WriteString("INSERT INTO public.t VALUES (1, '" + row + "');\n")
	}
	data := dump.Bytes()
	buf := make([]byte, 64<<10)
	run := func(w func() io.Writer) time.Duration {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			// Only the reader's Read: no WriterTo, so the writer gets 64 KiB at a time.
			if _, err := io.CopyBuffer(w(), struct{ io.Reader }{bytes.NewReader(data)}, buf); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	scanned := run(func() io.Writer { return NewNameScanner(io.Discard) })
	b.StopTimer()
	copied := run(func() io.Writer { return crc32.NewIEEE() })
	b.ReportMetric(float64(scanned)/float64(max(copied, 1)), "scanning_ratio")
	b.ReportMetric(float64(len(data))*float64(b.N)/scanned.Seconds()/(1<<20), "MiB/s")
}
