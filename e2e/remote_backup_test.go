//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// remoteShare is the most of the dump's size that one command may move through the
// client, in each direction: the data goes between the service, the helpers and the
// repository on the engine's host; only API calls, restic's JSON lines and the
// password cross the client.
const remoteShare = 0.01

// remoteRows rows of 256 hex digits (8 MD5s that share nothing) make over 100 MB of
// table data and a dump of about 115 MB that compresses to about half, not to nothing.
const remoteRows = 450_000

const remoteFilesSeed = `set -e; cd /srv/uploads
mkdir -p media/2026 docs empty
for i in 1 2 3 4 5 6; do head -c 1048576 /dev/urandom > media/2026/clip$i.bin; done
head -c 300000 /dev/urandom > media/thumb.bin
printf 'hello from the second engine\n' > docs/readme.txt
printf 'secret\n' > docs/key && chmod 600 docs/key && chown 1001:1002 docs/key`

const remoteFilesDamage = `set -e; cd /srv/uploads
rm -rf media/2026/clip3.bin empty
head -c 1048576 /dev/urandom > media/2026/clip1.bin
printf 'changed\n' > docs/readme.txt
echo new > new-file`

// traffic is what the proxy counted for one command: bytes from the client to the
// engine (in) and back (out).
type traffic struct {
	what    string
	in, out int64
}

// TestRemoteEngineBackupRestore backs up and restores a project on a second engine that
// the plugin reaches only as a tcp docker context, through a proxy that counts every
// byte, and proves that the data never passes through the client: init provisions the
// helper image on that engine (its bytes are logged), then up, the restore of the
// PostgreSQL dump and the restore of the volume each move less than 1 % of the dump's
// size in each direction, and the data comes back exactly.
func TestRemoteEngineBackupRestore(t *testing.T) {
	t.Parallel()
	e := sharedRemoteEngine(t)

	// The repository is a folder on the engine's host (the same machine here), the
	// password file is on the client.
	p, repo := newRemoteFolderProject(t, e, "remote-backup", "E2E_REMOTE_REPOSITORY")

	start := time.Now()
	p.pgSQL(t, fmt.Sprintf("CREATE TABLE blobs (id int PRIMARY KEY, body text); "+
		"INSERT INTO blobs SELECT g, (SELECT string_agg(md5(g || ':' || k), '') FROM generate_series(1, 8) k) "+
		"FROM generate_series(1, %d) g;", remoteRows))
	tableSize := p.pgInt(t, "SELECT pg_total_relation_size('blobs')")
	dbSize := p.pgInt(t, "SELECT pg_database_size('appdb')")
	t.Logf("table blobs: %d rows, %d bytes (database %d bytes), made in %s", remoteRows, tableSize, dbSize, time.Since(start).Round(time.Millisecond))
	if tableSize < 100<<20 {
		t.Fatalf("the table holds %d bytes, want at least 100 MiB", tableSize)
	}
	wantRows := p.pgChecksum(t)

	p.exec(t, "files", "sh", "-c", remoteFilesSeed)
	live := p.volume(t, "uploads")
	wantTree := p.tree(t, live)

	// init builds the helper image on the engine from the restic image and the
	// plugin's own binary: the one time the client has to send something big.
	r, provisioning := p.measure(t, "init (provisioning)", "init")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	t.Logf("provisioning the helper image on the second engine took %d bytes to the engine, %d back", provisioning.in, provisioning.out)
	if _, err := os.Stat(filepath.Join(repo, "config")); err != nil {
		t.Fatalf("init made no repository in %s on the engine's host: %v", repo, err)
	}

	r, upFiles := p.measure(t, "up files", "up", "files", "--json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	filesSize := p.processed(t, r.stdout, "files")
	r, upAll := p.measure(t, "up", "up", "--json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	dumpSize := p.processed(t, r.stdout, "db")
	limit := int64(float64(dumpSize) * remoteShare)
	t.Logf("dump of db: %d bytes (restic's total_bytes_processed); volume of files: %d bytes; limit each way: %d bytes", dumpSize, filesSize, limit)
	if dumpSize < 100<<20 {
		t.Fatalf("the dump holds %d bytes, want at least 100 MiB", dumpSize)
	}
	checkShare := func(tr traffic) {
		t.Helper()
		if tr.in >= limit {
			t.Errorf("%s: the client sent %d bytes to the engine, %.2f %% of the dump's %d, want less than 1 %%",
				tr.what, tr.in, 100*float64(tr.in)/float64(dumpSize), dumpSize)
		}
		if tr.out >= limit {
			t.Errorf("%s: the client got %d bytes from the engine, %.2f %% of the dump's %d, want less than 1 %%",
				tr.what, tr.out, 100*float64(tr.out)/float64(dumpSize), dumpSize)
		}
	}
	checkShare(upFiles)
	checkShare(upAll)

	// Damage both, then restore each through the context.
	p.pgSQL(t, "DELETE FROM blobs WHERE id % 7 = 0; UPDATE blobs SET body = 'damaged' WHERE id < 1000; INSERT INTO blobs VALUES (-1, 'extra');")
	if got := p.pgChecksum(t); got == wantRows {
		t.Fatal("the damage to the table changed nothing")
	}
	p.exec(t, "files", "sh", "-c", remoteFilesDamage)
	if p.tree(t, live) == wantTree {
		t.Fatal("the damage to the volume changed nothing")
	}

	r, restoreDB := p.measure(t, "restore db", "restore", "db", "--yes")
	if r.code != 0 {
		t.Errorf("%v", r)
	}
	checkShare(restoreDB)
	if got := p.pgChecksum(t); got != wantRows {
		t.Errorf("table blobs after restore db: %s, want %s", got, wantRows)
	} else {
		t.Logf("table blobs after restore db: %s (rows, length, MD5), as backed up", got)
	}

	r, restoreFiles := p.measure(t, "restore files", "restore", "files", "--yes")
	if r.code != 0 {
		t.Errorf("%v", r)
	}
	checkShare(restoreFiles)
	if got := p.tree(t, live); got != wantTree {
		t.Errorf("volume after restore files:\n%s\nwant:\n%s", got, wantTree)
	} else {
		t.Logf("volume after restore files: all %d entries and SHA-256s as backed up", len(lines(got)))
	}
	if st := strings.TrimSpace(p.e.MustDocker(t, "inspect", "--format", "{{.State.Status}}", p.containers(t)["files"])); st != "running" {
		t.Errorf("service files is %s after its restore", st)
	}

	// The commands have ended: no anchor, helper, stop record or staging volume of
	// theirs is left on the engine.
	if left := lines(e.MustDocker(t, "ps", "-a", "--filter", p.ourLabel(), "--format", "{{.Names}} ({{.Status}})")); len(left) > 0 {
		t.Errorf("containers of ours left on the second engine after the commands ended: %q", left)
	}
	for _, label := range []string{labelStopped, "io.docker-backup.staging"} {
		if left := lines(e.MustDocker(t, "volume", "ls", "-q", "--filter", p.ourLabel(), "--filter", "label="+label)); len(left) > 0 {
			t.Errorf("volumes labelled %s left on the second engine: %q", label, left)
		}
	}

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "command\tto the engine\tfrom the engine\tto, %% of dump\tfrom, %% of dump\t\n")
	for _, tr := range []traffic{provisioning, upFiles, upAll, restoreDB, restoreFiles} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t\n", tr.what, tr.in, tr.out,
			100*float64(tr.in)/float64(dumpSize), 100*float64(tr.out)/float64(dumpSize))
	}
	tw.Flush()
	t.Logf("bytes through the client (dump %d bytes, table %d, volume %d; limit %d each way, not applied to init):\n%s",
		dumpSize, tableSize, filesSize, limit, b.String())
}

// measure runs `docker backup args…` on the project with the proxy's counters at zero,
// and returns its result and what the proxy counted once the command's connections
// have closed (the proxy may still be copying its last bytes when it exits).
func (p *remoteProject) measure(t *testing.T, what string, args ...string) (result, traffic) {
	t.Helper()
	p.e.Proxy.Reset()
	r := p.backup(t, args...)
	eventually(t, 30*time.Second, "the connections of "+what+" through the proxy to close", func() error {
		if n := p.e.Proxy.Open(); n > 0 {
			return fmt.Errorf("%d still open", n)
		}
		return nil
	})
	tr := traffic{what: what, in: p.e.Proxy.BytesIn(), out: p.e.Proxy.BytesOut()}
	t.Logf("%s: %d bytes to the engine, %d back", what, tr.in, tr.out)
	return r, tr
}

// processed reads `up --json` and returns what restic read for the service
// (total_bytes_processed of its closing event): for a dump, the dump's size.
func (p *remoteProject) processed(t *testing.T, stdout, service string) int64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Event, Service, Status, Error string
			Summary                       *struct {
				TotalBytesProcessed int64 `json:"total_bytes_processed"`
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("up --json printed a line that is not JSON: %q", sc.Text())
		}
		if ev.Service == service && (ev.Event == "done" || ev.Event == "error") {
			if ev.Status != "ok" || ev.Summary == nil {
				t.Fatalf("up: service %s ended %q (%s) with summary %v", service, ev.Status, ev.Error, ev.Summary)
			}
			return ev.Summary.TotalBytesProcessed
		}
	}
	t.Fatalf("up --json has no closing event of service %s:\n%s", service, stdout)
	return 0
}

// pgSQL runs SQL in the db service on the second engine.
func (p *remoteProject) pgSQL(t *testing.T, sql string) string {
	t.Helper()
	return p.exec(t, "db", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", "app", "-d", "appdb", "-c", sql)
}

// pgInt runs a query that returns one number.
func (p *remoteProject) pgInt(t *testing.T, sql string) int64 {
	t.Helper()
	out := strings.TrimSpace(p.pgSQL(t, sql))
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		t.Fatalf("%s: want a number, got %q", sql, out)
	}
	return n
}

// pgChecksum is the blobs table's row count, total length and an MD5 over every row in
// order, in one line to compare.
func (p *remoteProject) pgChecksum(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.pgSQL(t, "SELECT count(*) || ' ' || coalesce(sum(length(body)), 0) || ' ' || "+
		"md5(coalesce(string_agg(md5(id || ':' || body), '' ORDER BY id), '')) FROM blobs"))
}
