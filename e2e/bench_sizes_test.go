//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkRestoreSizes measures, at 1 GiB and 8 GiB of BenchmarkUpVolume's generated
// data (DOCKER_BACKUP_BENCH_RESTORE_SIZES, e.g. "64MiB,256MiB"), in a service with
// `stop: true`: the service's downtime during the first up (from its container's die to
// its start in the engine's events) against raw restic's backup of the same volume plus
// 1 s; restore (staging, verification, swap) against raw restic restoring the plugin's
// own snapshot into a folder, its cost per GiB against the smallest size's, and the
// service's downtime during it (≤ 2 s whatever the size).
//
// To spare the disk, the data is generated straight into the volume's folder and raw
// restic reads that folder and the plugin's own repository (the benchmarks run as root
// on the engine's host); raw restic's repository and restore target are removed once
// timed, and each size's project is taken down before the next.
func BenchmarkRestoreSizes(b *testing.B) {
	sizes := benchSizes(b, "DOCKER_BACKUP_BENCH_RESTORE_SIZES", []int64{1 << 30, 8 << 30})
	type sizeCase struct {
		size                          int64
		files                         int
		tRaw, tRawRestore             time.Duration
		up, restore                   upRun
		upDown, restoreDown           time.Duration
		upRestarted, restoreRestarted bool
	}
	var cases []sizeCase
	for _, size := range sizes {
		c := sizeCase{size: size}
		p := newBenchProject(b, "bench/stop")
		work := b.TempDir()
		src, n := fillVolume(b, p, "data", work, size)
		c.files = n
		mustRun(b, p.cmd([]string{"docker", "backup", "init"}))

		rawRepo := filepath.Join(work, "raw-repo")
		raw := rawRestic(rawRepo, filepath.Join(work, "raw-cache"), p.passwordFile())
		mustRun(b, raw("init"))
		c.tRaw = timed(b, "raw restic backup", raw("backup", "--json", "--host", p.name, src))
		removeAll(b, rawRepo)

		c.up = timedUp(b, p, "first up (stop: true)")
		c.upDown, c.upRestarted = c.up.watched.downtime("files")

		// Raw restic restores the plugin's own snapshot: no second repository on disk.
		own := rawRestic(p.repository(), filepath.Join(work, "own-cache"), p.passwordFile())
		target := filepath.Join(work, "raw-restore")
		c.tRawRestore = timed(b, "raw restic restore", own("restore", "latest", "--target", target))
		removeAll(b, target)

		c.restore = timedWatched(b, p, "docker backup restore", []string{"docker", "backup", "restore", "files", "--yes", "--no-rollback"}, breakdown)
		c.restoreDown, c.restoreRestarted = c.restore.watched.downtime("files")
		tag := strings.ReplaceAll(humanSize(size), " ", "")
		reportCounts(b, "up-"+tag, c.up)
		reportCounts(b, "restore-"+tag, c.restore)
		p.down(b)
		removeAll(b, work)
		cases = append(cases, c)
	}

	var rows [][]string
	var goals []goal
	var notes []string
	perGiB := func(d time.Duration, size int64) time.Duration {
		return time.Duration(float64(d) / (float64(size) / (1 << 30)))
	}
	for i, c := range cases {
		s := humanSize(c.size)
		rows = append(rows,
			row(fmt.Sprintf("%s: raw restic backup of the volume's folder", s), c.tRaw, c.size),
			row(fmt.Sprintf("%s: docker backup up, first (stop: true)", s), c.up.wall, c.size),
			row(fmt.Sprintf("%s: raw restic restore into a folder", s), c.tRawRestore, c.size),
			row(fmt.Sprintf("%s: docker backup restore over the live volume", s), c.restore.wall, c.size),
		)
		tag := strings.ReplaceAll(s, " ", "")
		goals = append(goals,
			downtimeGoal(s+": up, service down", "s-up-downtime-"+tag, c.upDown, c.upRestarted, c.tRaw+time.Second,
				fmt.Sprintf("≤ raw restic + 1 s = %s", secs(c.tRaw+time.Second))),
			downtimeGoal(s+": restore, service down", "s-restore-downtime-"+tag, c.restoreDown, c.restoreRestarted, 2*time.Second, "≤ 2 s"),
			ratioGoal(s+": restore vs raw restic restore", "x-restore-vs-restic-"+tag, c.restore.wall, c.tRawRestore, "≤ 1.5×", 1.5),
		)
		if i > 0 {
			goals = append(goals, growthGoal(fmt.Sprintf("restore per GiB, %s vs %s", s, humanSize(cases[0].size)), "x-restore-per-gib-"+tag,
				perGiB(c.restore.wall, c.size), perGiB(cases[0].restore.wall, cases[0].size)))
		}
		notes = append(notes,
			fmt.Sprintf("%s (%d files): up:      %s", s, c.files, c.up.breakdown),
			fmt.Sprintf("%s (%d files): restore: %s (%s per GiB)", s, c.files, c.restore.breakdown, secs(perGiB(c.restore.wall, c.size))))
	}
	report(b, fmt.Sprintf("BenchmarkRestoreSizes: a stop: true service's volume of %s", joinSizes(sizes)), rows, goals, notes)
	b.ReportMetric(0, "ns/op")
}

// fillVolume fills a project's named volume with size bytes of generated data and
// returns a host folder holding those bytes, for raw restic, and the number of files.
// It writes straight into the volume's folder when the engine's is this host's and
// readable (root on a local engine); else into a folder under work, copied into the
// volume by a throw-away container.
func fillVolume(b *testing.B, p *project, key, work string, size int64) (string, int) {
	b.Helper()
	volume := p.volume(b, key)
	gen := newDataGen(benchSeed)
	files := gen.plan(size)
	start := time.Now()
	dir := strings.TrimSpace(mustRun(b, cmdSpec{argv: []string{"docker", "volume", "inspect", "--format", "{{.Mountpoint}}", volume}}).stdout)
	if probe := filepath.Join(dir, ".bench-probe"); os.WriteFile(probe, nil, 0o600) == nil && os.Remove(probe) == nil {
		if err := gen.write(dir, files); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %s in %d files in the volume's folder in %s", humanSize(size), len(files), time.Since(start).Round(time.Millisecond))
		return dir, len(files)
	}
	data := filepath.Join(work, "data")
	if err := gen.write(data, files); err != nil {
		b.Fatal(err)
	}
	inHelper(b, "cp -a /src/data/. /dst/", work+":/src:ro", volume+":/dst")
	b.Logf("generated %s in %d files, copied into the volume, in %s", humanSize(size), len(files), time.Since(start).Round(time.Millisecond))
	return data, len(files)
}

// rawRestic prepares commands of the restic binary on the host: the same binary as in
// the helper image, the repository and password file given, its own cache, --json
// progress at the rate up asks for.
func rawRestic(repo, cache, passwordFile string) func(args ...string) cmdSpec {
	return func(args ...string) cmdSpec {
		return cmdSpec{argv: append([]string{env.resticBin}, args...), env: []string{
			"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD_FILE=" + passwordFile,
			"RESTIC_CACHE_DIR=" + cache, "RESTIC_PROGRESS_FPS=2",
		}}
	}
}

func removeAll(b *testing.B, path string) {
	b.Helper()
	if err := os.RemoveAll(path); err != nil {
		b.Fatal(err)
	}
}

func joinSizes(sizes []int64) string {
	var s []string
	for _, n := range sizes {
		s = append(s, humanSize(n))
	}
	return strings.Join(s, " and ")
}

// benchSizes reads a list of sizes from the environment ("64MiB,256MiB"), or def.
func benchSizes(b *testing.B, name string, def []int64) []int64 {
	return benchList(b, name, def, parseSize, "1GiB,8GiB")
}

// benchCounts reads a list of counts from the environment ("1,3,5"), or def.
func benchCounts(b *testing.B, name string, def []int) []int {
	return benchList(b, name, def, func(f string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err == nil && n < 1 {
			err = fmt.Errorf("%d is not a count", n)
		}
		return n, err
	}, "1,10,50")
}

// benchList reads a comma-separated list of increasing values from the environment
// variable name, each read by parse, or returns def when it is not set; example is
// what the message for a bad list shows.
func benchList[T int | int64](b *testing.B, name string, def []T, parse func(string) (T, error), example string) []T {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var out []T
	for _, f := range strings.Split(s, ",") {
		n, err := parse(f)
		if err != nil || len(out) > 0 && n <= out[len(out)-1] {
			b.Fatalf("%s=%q: want increasing values such as %s", name, s, example)
		}
		out = append(out, n)
	}
	return out
}
