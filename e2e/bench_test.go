//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The benchmarks of issues 4 and 24 (bench_scale_test.go, bench_sizes_test.go: how the
// cost grows). Each measures its baselines and docker-backup in the same run, on the
// same disk, and reports ratios; they assert nothing about time. Run them with
// `make bench`, or for a quick look with small sizes:
//
//	DOCKER_BACKUP_BENCH_SIZE=64MiB DOCKER_BACKUP_BENCH_DUMP_SIZE=50MB \
//	DOCKER_BACKUP_BENCH_SERVICES=1,3,5 DOCKER_BACKUP_BENCH_PLAN_SERVICES=1,5,20 \
//	DOCKER_BACKUP_BENCH_RESTORE_SIZES=64MiB,256MiB \
//	  go test -tags e2e -run '^$' -bench . -benchtime 1x ./e2e/
//
// Each benchmark does its work once, whatever b.N is: one run takes minutes.

// BenchmarkUpVolume measures a volumes backup of a generated volume (1 GiB by default,
// DOCKER_BACKUP_BENCH_SIZE to change it): the first up against raw restic and tar czf of
// the same files, the second up with nothing changed against the first, how much the
// repository grows when 1 % of the files changed, and a restore of the volume against
// raw restic restore.
//
// The files are generated on the host, in a temporary folder, and copied into the
// project's named volume by a throw-away container. The host folder is what raw restic
// and tar read: it holds the very same bytes, on the same disk as the engine's volumes
// (true for a local engine), and the host tools need no access to the engine's data
// root (/var/lib/docker is root's only, and not on the host at all with a remote or
// desktop engine).
func BenchmarkUpVolume(b *testing.B) {
	size := benchSize(b, "DOCKER_BACKUP_BENCH_SIZE", 1<<30)
	work := b.TempDir()
	data := filepath.Join(work, "data")

	gen := newDataGen(benchSeed)
	files := gen.plan(size)
	start := time.Now()
	if err := gen.write(data, files); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s in %d files in %s", humanSize(size), len(files), time.Since(start).Round(time.Millisecond))

	p := newBenchProject(b, "bench/volume")
	volume := p.volume(b, "data")
	inHelper(b, "cp -a /src/data/. /dst/", work+":/src:ro", volume+":/dst")
	mustRun(b, p.cmd([]string{"docker", "backup", "init"}))

	// Raw restic on the host: the same binary as in the helper image, a fresh local
	// repository, the password from the same file, a fresh cache, --json as up runs it.
	rawRepo := filepath.Join(work, "raw-repo")
	raw := func(args ...string) cmdSpec {
		return cmdSpec{argv: append([]string{env.resticBin}, args...), env: []string{
			"RESTIC_REPOSITORY=" + rawRepo, "RESTIC_PASSWORD_FILE=" + p.passwordFile(),
			"RESTIC_CACHE_DIR=" + filepath.Join(work, "raw-cache"), "RESTIC_PROGRESS_FPS=2",
		}}
	}
	mustRun(b, raw("init"))
	tRestic := timed(b, "raw restic backup", raw("backup", "--json", "--host", p.name, data))
	up1 := timedUp(b, p, "first up")
	tarball := filepath.Join(work, "data.tar.gz")
	tTar := timed(b, "tar czf", cmdSpec{argv: []string{"tar", "czf", tarball, "-C", data, "."}})

	repo1 := folderBytes(b, p.repository())
	up2 := timedUp(b, p, "second up, nothing changed")
	repo2 := folderBytes(b, p.repository())
	// Raw restic's own second backup with nothing changed: the floor of up's ratio.
	tRestic2 := timed(b, "raw restic backup, nothing changed", raw("backup", "--json", "--host", p.name, data))

	changed, err := gen.change(data, files, 0.01)
	if err != nil {
		b.Fatal(err)
	}
	list := filepath.Join(work, "changed.list")
	if err := os.WriteFile(list, []byte(strings.Join(changed, "\x00")), 0o644); err != nil {
		b.Fatal(err)
	}
	inHelper(b, "cd /src/data && xargs -0 -a /src/changed.list cp -a --parents -t /dst", work+":/src:ro", volume+":/dst")
	up3 := timedUp(b, p, "third up, 1 % of the files changed")
	repo3 := folderBytes(b, p.repository())

	// Restore: the latest snapshot back over the live volume (staging, verification,
	// swap and rollback copy included) against raw restic restoring its own snapshot of
	// the same bytes into an empty folder.
	tRawRestore := timed(b, "raw restic restore", raw("restore", "latest", "--target", filepath.Join(work, "raw-restore")))
	rs := timedWatched(b, p, "docker backup restore", []string{"docker", "backup", "restore", "files", "--yes", "--no-rollback"}, breakdown)
	tRestore := rs.wall
	restoreDown, restarted := rs.watched.downtime("files")

	rawRepoBytes := folderBytes(b, rawRepo)
	tarBytes := fileSize(b, tarball)
	growth := float64(repo3-repo2) / float64(size) * 100
	report(b, fmt.Sprintf("BenchmarkUpVolume: %s in %d files (restic repository %s, raw restic's %s, tar.gz %s = %.0f %%)",
		humanSize(size), len(files), humanSize(repo1), humanSize(rawRepoBytes), humanSize(tarBytes), 100*float64(tarBytes)/float64(size)),
		[][]string{
			row("raw restic backup on the host", tRestic, size),
			row("tar czf", tTar, size),
			row("docker backup up, first", up1.wall, size),
			row("raw restic backup, nothing changed", tRestic2, 0),
			row("docker backup up, nothing changed", up2.wall, 0),
			row(fmt.Sprintf("docker backup up, %d files changed", len(changed)), up3.wall, 0),
			row("raw restic restore into a folder", tRawRestore, size),
			row("docker backup restore over the live volume", tRestore, size),
		},
		[]goal{
			ratioGoal("first up vs raw restic", "x-up-vs-restic", up1.wall, tRestic, "≤ 1.10×", 1.10),
			ratioGoal("first up vs tar czf", "x-up-vs-tar", up1.wall, tTar, "< 1×", 0.9999),
			ratioGoal("second up vs first up", "x-second-vs-first", up2.wall, up1.wall, "≤ 0.10×", 0.10),
			infoRatio("raw restic's own second vs first", "x-restic-second-vs-first", tRestic2, tRestic, "reference (0.09× in issue 24)"),
			{name: "growth, 1 % of files changed", metric: "%-growth-1pct-changed", value: growth,
				shown: fmt.Sprintf("%.2f %% (%s)", growth, humanSize(repo3-repo2)), target: "≤ 3 % of the volume", met: growth <= 3},
			ratioGoal("restore vs raw restic restore", "x-restore-vs-restic", tRestore, tRawRestore, "≤ 1.5×", 1.5),
			downtimeGoal("restore: service down (die → start)", "s-restore-downtime", restoreDown, restarted, 2*time.Second, "≤ 2 s"),
		},
		[]string{
			"first up:  " + up1.breakdown,
			"second up: " + up2.breakdown,
			"third up:  " + up3.breakdown,
			"restore:   " + rs.breakdown,
			fmt.Sprintf("repository growth with nothing changed: %s", humanSize(repo2-repo1)),
		})
	b.ReportMetric(tRestic.Seconds(), "s-restic")
	b.ReportMetric(tTar.Seconds(), "s-tar")
	b.ReportMetric(up1.wall.Seconds(), "s-up-first")
	b.ReportMetric(up2.wall.Seconds(), "s-up-second")
	b.ReportMetric(tRestore.Seconds(), "s-restore")
	b.ReportMetric(tRawRestore.Seconds(), "s-restic-restore")
	reportCounts(b, "up-first", up1)
	reportCounts(b, "up-second", up2)
	reportCounts(b, "restore", rs)
	b.ReportMetric(0, "ns/op") // setup dominates the benchmark's own time: hide it
}

// BenchmarkUpDump measures a streamed PostgreSQL dump: a table filled to a dump of about
// 400 MB (DOCKER_BACKUP_BENCH_DUMP_SIZE to change it), `docker backup up db` with the
// postgres preset against the host pipe `docker exec db pg_dumpall | restic backup
// --stdin` into a fresh repository (issue 10's goal), and against `pg_dumpall >
// /dev/null` in the service's container as throughput (issue 4's).
func BenchmarkUpDump(b *testing.B) {
	size := benchSize(b, "DOCKER_BACKUP_BENCH_DUMP_SIZE", 400e6)
	p := newBenchProject(b, "bench/dump")
	db := p.container(b, "db")

	// A row dumps to about 270 bytes: an id, 128 characters of hex text and 64 random
	// bytes (hex again in the dump), so the dump is text like most dumps.
	rows := size / 270
	start := time.Now()
	p.exec(b, "db", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "bench", "-d", "bench", "-c",
		fmt.Sprintf(`CREATE TABLE items (id integer PRIMARY KEY, note text, payload bytea);
INSERT INTO items SELECT g,
  md5(g::text) || md5((g*7)::text) || md5((g*13)::text) || md5((g*31)::text),
  decode(md5((g*3)::text) || md5((g*5)::text) || md5((g*11)::text) || md5((g*17)::text), 'hex')
FROM generate_series(1, %d) g;`, rows))
	// Vacuum sets the hint bits and checkpoint writes the pages, so neither measured
	// dump pays for that and no autovacuum runs during them.
	p.exec(b, "db", "psql", "-X", "-q", "-U", "bench", "-d", "bench", "-c", "VACUUM (FREEZE, ANALYZE) items")
	p.exec(b, "db", "psql", "-X", "-q", "-U", "bench", "-d", "bench", "-c", "CHECKPOINT")
	b.Logf("filled %d rows in %s", rows, time.Since(start).Round(time.Millisecond))

	mustRun(b, p.cmd([]string{"docker", "backup", "init"}))

	// The preset's own command, minus its exec. Its first run, through docker exec into a
	// host file, counts the bytes, warms the page cache for the measured runs and keeps
	// the dump for restic's own speed on it.
	const dumpall = `PGPASSWORD="$POSTGRES_PASSWORD" pg_dumpall --clean --if-exists --username="$POSTGRES_USER"`
	work := b.TempDir()
	dumpFile := filepath.Join(work, "dump.sql")
	tExec := timed(b, "docker exec pg_dumpall > host file", cmdSpec{argv: []string{"sh", "-c",
		`exec docker exec "$0" sh -c "$1" > "$2"`, db, dumpall, dumpFile}})
	dumpBytes := fileSize(b, dumpFile)
	tDump := timed(b, "pg_dumpall > /dev/null", cmdSpec{argv: []string{"docker", "exec", db, "sh", "-c", dumpall + " > /dev/null"}})

	// Raw restic on the host, reading the same dump from a file: how fast restic itself
	// stores this stream on this machine, the ceiling of any streamed dump.
	rawRepo := filepath.Join(work, "raw-repo")
	raw := []string{"RESTIC_REPOSITORY=" + rawRepo, "RESTIC_PASSWORD_FILE=" + p.passwordFile(),
		"RESTIC_CACHE_DIR=" + filepath.Join(work, "raw-cache"), "RESTIC_PROGRESS_FPS=2"}
	mustRun(b, cmdSpec{argv: []string{env.resticBin, "init"}, env: raw})
	tRestic := timed(b, "restic backup --stdin < dump file", cmdSpec{argv: []string{"sh", "-c",
		`exec "$0" backup --json --host "$1" --stdin --stdin-filename db.sql < "$2"`, env.resticBin, p.name, dumpFile}, env: raw})
	if err := os.Remove(dumpFile); err != nil {
		b.Fatal(err)
	}

	// The host pipe of issue 10's goal: the dump through docker exec straight into a
	// fresh repository of the same restic on the host.
	pipeRepo := filepath.Join(work, "pipe-repo")
	pipe := []string{"RESTIC_REPOSITORY=" + pipeRepo, "RESTIC_PASSWORD_FILE=" + p.passwordFile(),
		"RESTIC_CACHE_DIR=" + filepath.Join(work, "pipe-cache"), "RESTIC_PROGRESS_FPS=2"}
	mustRun(b, cmdSpec{argv: []string{env.resticBin, "init"}, env: pipe})
	tPipe := timed(b, "docker exec pg_dumpall | restic backup --stdin", cmdSpec{argv: []string{"bash", "-c",
		`set -o pipefail; docker exec "$0" sh -c "$1" | "$2" backup --json --host "$3" --stdin --stdin-filename db.sql >/dev/null`,
		db, dumpall, env.resticBin, p.name}, env: pipe})

	up := timedUp(b, p, "docker backup up db", "db")

	report(b, fmt.Sprintf("BenchmarkUpDump: PostgreSQL dump of %s (%d rows)", humanSize(dumpBytes), rows),
		[][]string{
			row("pg_dumpall > /dev/null, in the container (docker exec)", tDump, dumpBytes),
			row("docker exec pg_dumpall > file on the host", tExec, dumpBytes),
			row("restic backup --stdin < that file, on the host", tRestic, dumpBytes),
			row("docker exec pg_dumpall | restic backup --stdin, on the host (fresh repository)", tPipe, dumpBytes),
			row("docker backup up db (postgres preset)", up.wall, dumpBytes),
		},
		[]goal{
			ratioGoal("up vs the host pipe", "x-up-vs-host-pipe", up.wall, tPipe, "≤ 1.05×", 1.05),
			{
				name: "up throughput vs pg_dumpall", metric: "x-dump-throughput-vs-pg_dumpall",
				value: tDump.Seconds() / up.wall.Seconds(), shown: fmt.Sprintf("%.2f×", tDump.Seconds()/up.wall.Seconds()),
				target: "≥ 0.9× (issue 4)", met: tDump.Seconds()/up.wall.Seconds() >= 0.9,
			},
		},
		[]string{
			"up: " + up.breakdown,
			fmt.Sprintf("for reference: up reaches %.2f× the throughput of raw restic reading the dump from a file", tRestic.Seconds()/up.wall.Seconds()),
		})
	b.ReportMetric(tRestic.Seconds()/up.wall.Seconds(), "x-dump-throughput-vs-restic-stdin")
	b.ReportMetric(tDump.Seconds(), "s-pg_dumpall")
	b.ReportMetric(tPipe.Seconds(), "s-host-pipe")
	b.ReportMetric(up.wall.Seconds(), "s-up")
	reportCounts(b, "up", up)
	b.ReportMetric(float64(dumpBytes)/1e6/up.wall.Seconds(), "MB/s-up")
	b.ReportMetric(0, "ns/op")
}

// downtimeGoal is a goal on a service's downtime, met at or below max; a service that
// did not start again misses it.
func downtimeGoal(name, metric string, d time.Duration, restarted bool, max time.Duration, target string) goal {
	g := goal{name: name, metric: metric, value: d.Seconds(), shown: secs(d), target: target, met: restarted && d <= max}
	if !restarted {
		g.shown += " (not started again)"
	}
	return g
}

// infoRatio is a ratio printed and reported for reference, with no goal.
func infoRatio(name, metric string, a, base time.Duration, target string) goal {
	g := ratioGoal(name, metric, a, base, target, 0)
	g.info = true
	return g
}

// ratioGoal is a goal on a/base that is met at or below max.
func ratioGoal(name, metric string, a, base time.Duration, target string, max float64) goal {
	r := a.Seconds() / base.Seconds()
	return goal{name: name, metric: metric, value: r, shown: fmt.Sprintf("%.2f×", r), target: target, met: r <= max}
}

func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
