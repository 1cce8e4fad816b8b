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

// The benchmarks of issue 24's growth table: how the cost of up, plan and restore grows
// with the number of services and the size of the data. Each prints, per case, the cost
// per service (per GiB) against the smallest case's: the goal is ≤ 1.2×, linear growth
// with room for this machine's noise (a fixed cost shared by more services makes the
// ratio fall below 1).

// growthMax is the highest per-service (per-GiB) cost ratio that still counts as
// linear growth.
const growthMax = 1.2

// BenchmarkUpServices measures `docker backup up` of a project of 1, 10 and 50 services
// (DOCKER_BACKUP_BENCH_SERVICES, e.g. "1,3,5"), each of 10 MiB
// (DOCKER_BACKUP_BENCH_SERVICE_SIZE): half dump services, whose dump command writes
// random bytes in a container of the e2e database image (no database server), half
// volumes services with a named volume of random bytes (one service: a volumes
// service). Each case is its own project, taken down after it.
func BenchmarkUpServices(b *testing.B) {
	counts := benchCounts(b, "DOCKER_BACKUP_BENCH_SERVICES", []int{1, 10, 50})
	per := benchSize(b, "DOCKER_BACKUP_BENCH_SERVICE_SIZE", 10<<20)
	var ups []upRun
	for _, n := range counts {
		p := newPreparedProject(b, "bench/services", func(p *project) { writeBenchServices(b, p, n, per) })
		var mounts []string
		for i := range volumeServices(n) {
			mounts = append(mounts, p.volume(b, benchServiceName("vol", i))+":/v/"+strconv.Itoa(i))
		}
		inHelper(b, fmt.Sprintf(`for d in /v/*; do head -c %d /dev/urandom > "$d/data"; done`, per), mounts...)
		mustRun(b, p.cmd([]string{"docker", "backup", "init"}))
		u := timedWatched(b, p, fmt.Sprintf("up of %d services", n), []string{"docker", "backup", "up"}, compactBreakdown)
		ups = append(ups, u)
		reportCounts(b, fmt.Sprintf("up-%d", n), u)
		p.down(b)
	}

	var rows [][]string
	var goals []goal
	var notes []string
	for i, n := range counts {
		u := ups[i]
		rows = append(rows, row(fmt.Sprintf("up of %d services (%d dumps, %d volumes), %s each", n, n-volumeServices(n), volumeServices(n), humanSize(per)),
			u.wall, per*int64(n)))
		each := u.wall / time.Duration(n)
		notes = append(notes, fmt.Sprintf("%d services: %s per service; %s", n, secs(each), u.breakdown))
		if i == 0 {
			continue
		}
		goals = append(goals, growthGoal(fmt.Sprintf("up per service, %d vs %d services", n, counts[0]), fmt.Sprintf("x-up-per-service-%d", n),
			each, ups[0].wall/time.Duration(counts[0])))
		marginal := (u.wall - ups[i-1].wall) / time.Duration(n-counts[i-1])
		notes = append(notes, fmt.Sprintf("each service from %d to %d costs %s", counts[i-1], n, secs(marginal)))
	}
	report(b, fmt.Sprintf("BenchmarkUpServices: up of %v services, %s each (half dumps, half volumes)", counts, humanSize(per)), rows, goals, notes)
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPlan measures `docker backup plan` of 1, 10, 50 and 200 services
// (DOCKER_BACKUP_BENCH_PLAN_SERVICES) of BenchmarkUpServices' kinds: plan reads the
// project and asks the engine whether it is a swarm stack; nothing is started, so each
// case is timed as the best of three.
func BenchmarkPlan(b *testing.B) {
	counts := benchCounts(b, "DOCKER_BACKUP_BENCH_PLAN_SERVICES", []int{1, 10, 50, 200})
	var best []time.Duration
	for _, n := range counts {
		p := &project{name: runPrefix + randomHex(3), dir: filepath.Join(b.TempDir(), "bench-services")}
		if err := os.CopyFS(p.dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/bench/services"))); err != nil {
			b.Fatal(err)
		}
		writeBenchServices(b, p, n, 10<<20)
		var d time.Duration
		for i := range 3 {
			t := timed(b, fmt.Sprintf("plan of %d services", n), p.cmd([]string{"docker", "backup", "plan"}))
			if i == 0 || t < d {
				d = t
			}
		}
		best = append(best, d)
	}
	var rows [][]string
	var goals []goal
	for i, n := range counts {
		rows = append(rows, row(fmt.Sprintf("plan of %d services (best of 3), %s per service", n, secs(best[i]/time.Duration(n))), best[i], 0))
		b.ReportMetric(best[i].Seconds(), fmt.Sprintf("s-plan-%d", n))
		if i > 0 {
			goals = append(goals, growthGoal(fmt.Sprintf("plan per service, %d vs %d services", n, counts[0]), fmt.Sprintf("x-plan-per-service-%d", n),
				best[i]/time.Duration(n), best[0]/time.Duration(counts[0])))
		}
	}
	report(b, fmt.Sprintf("BenchmarkPlan: plan of %v services", counts), rows, goals, nil)
	b.ReportMetric(0, "ns/op")
}

// growthGoal is a per-service (per-GiB) cost against the smallest case's.
func growthGoal(name, metric string, each, base time.Duration) goal {
	return ratioGoal(name, metric, each, base, fmt.Sprintf("≤ %.1f× (linear)", growthMax), growthMax)
}

// volumeServices is how many of n bench services are volumes services: the larger half.
func volumeServices(n int) int { return (n + 1) / 2 }

func benchServiceName(kind string, i int) string { return fmt.Sprintf("%s%03d", kind, i) }

// writeBenchServices appends n services of bench/services' kinds to the project's
// compose file, each of size bytes, and writes the repository's password file.
func writeBenchServices(b *testing.B, p *project, n int, size int64) {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("\nservices:\n")
	for i := range volumeServices(n) {
		name := benchServiceName("vol", i)
		fmt.Fprintf(&sb, "  %s:\n    <<: *bench-volume\n    volumes:\n      - %s:/srv/data\n    x-backup:\n      strategy: volumes\n", name, name)
	}
	for i := range n - volumeServices(n) {
		fmt.Fprintf(&sb, "  %s:\n    <<: *bench-dump\n    x-backup:\n      strategy: dump\n      dump: head -c %d /dev/urandom\n",
			benchServiceName("dump", i), size)
	}
	sb.WriteString("\nvolumes:\n")
	for i := range volumeServices(n) {
		fmt.Fprintf(&sb, "  %s:\n", benchServiceName("vol", i))
	}
	f, err := os.OpenFile(filepath.Join(p.dir, "compose.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(sb.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.WriteFile(p.passwordFile(), []byte("bench-"+randomHex(8)+"\n"), 0o600)
	}
	if err != nil {
		b.Fatal(err)
	}
}
