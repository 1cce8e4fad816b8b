//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

// newBenchProject is newProject plus the repository password file that the bench
// scenarios' x-backup.password_file names.
func newBenchProject(b *testing.B, scenario string) *project {
	b.Helper()
	p := newProject(b, scenario)
	if err := os.WriteFile(p.passwordFile(), []byte("bench-"+randomHex(8)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// passwordFile is the repository password file of a bench scenario.
func (p *project) passwordFile() string { return filepath.Join(p.dir, "restic-password") }

// repository is the project's default local repository folder.
func (p *project) repository() string { return filepath.Join(p.dir, "backups") }

// mustRun runs a command and fails the benchmark unless it succeeds.
func mustRun(b *testing.B, c cmdSpec) result {
	b.Helper()
	r := c.run()
	if r.code != 0 {
		b.Fatalf("%v", r)
	}
	return r
}

// timed runs a whole command and returns its wall time; it fails the benchmark unless
// the command succeeds.
func timed(b *testing.B, what string, c cmdSpec) time.Duration {
	b.Helper()
	// Flush what earlier steps wrote, so that no step pays for another's writeback.
	syscall.Sync()
	start := time.Now()
	r := c.run()
	d := time.Since(start)
	if r.code != 0 {
		b.Fatalf("%s: %v", what, r)
	}
	out := lines(r.stdout)
	b.Logf("%s: %s\n%s", what, d.Round(time.Millisecond), strings.Join(out[max(0, len(out)-3):], "\n"))
	return d
}

// inHelper runs a shell script in a throw-away container of the e2e database image (it has
// coreutils and findutils, the restic image has not), with the given -v mounts.
func inHelper(b *testing.B, script string, mounts ...string) string {
	b.Helper()
	argv := []string{"docker", "run", "--rm", "--network", "none", "--name", runPrefix + "bench" + randomHex(3)}
	for _, m := range mounts {
		argv = append(argv, "-v", m)
	}
	return mustRun(b, cmdSpec{argv: append(argv, env.dbImage, "sh", "-c", script)}).stdout
}

// folderBytes is the sum of the sizes of the files under a host folder, read by a helper
// container: a repository written by the plugin's helpers belongs to root.
func folderBytes(b *testing.B, dir string) int64 {
	b.Helper()
	out := inHelper(b, `find /x -type f -printf '%s\n' | awk '{s+=$1} END {printf "%d\n", s}'`, dir+":/x:ro")
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		b.Fatalf("size of %s: %q", dir, out)
	}
	return n
}

// goal is one ratio of the issue, its target, and the metric it is reported as.
type goal struct {
	name   string
	metric string // the unit for b.ReportMetric, e.g. "x-up-vs-restic"
	value  float64
	shown  string // value as printed, e.g. "1.04×"
	target string
	met    bool
	// info marks a figure printed for reference, with no goal of its own.
	info bool
}

// report prints the measurements and the goals as tables on stdout and reports every
// value as a benchmark metric.
func report(b *testing.B, title string, rows [][]string, goals []goal, notes []string) {
	b.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%s\n", title)
	tw := tabwriter.NewWriter(&sb, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  measurement\twall time\tthroughput\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t\n", strings.Join(r, "\t"))
	}
	tw.Flush()
	tw = tabwriter.NewWriter(&sb, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  goal\tmeasured\ttarget\tmet\t")
	for _, g := range goals {
		met := "yes"
		switch {
		case g.info:
			met = "-"
		case !g.met:
			met = "NO"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", g.name, g.shown, g.target, met)
		b.ReportMetric(g.value, g.metric)
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(&sb, "  %s\n", n)
	}
	fmt.Print(sb.String())
}

// row is a measurement line: what, its wall time and, for a copy of size bytes, the rate.
func row(what string, d time.Duration, size int64) []string {
	rate := ""
	if size > 0 {
		rate = fmt.Sprintf("%.1f MiB/s", float64(size)/(1<<20)/d.Seconds())
	}
	return []string{what, secs(d), rate}
}
