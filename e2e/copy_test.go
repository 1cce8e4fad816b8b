//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// copySnapshot is one entry of restic snapshots --json, with what a copy records.
type copySnapshot struct {
	ID       string   `json:"id"`
	Original string   `json:"original"`
	Host     string   `json:"hostname"`
	Paths    []string `json:"paths"`
	Tags     []string `json:"tags"`
}

func (s copySnapshot) service() string {
	for _, t := range s.Tags {
		if v, ok := strings.CutPrefix(t, "service="); ok {
			return v
		}
	}
	return ""
}

// newCopyProject makes a project of scenario whose .env names its copy repository:
// E2E_COPY_REPOSITORY, its password file and its S3 keys (copy-schedule and copy
// read them).
func newCopyProject(t *testing.T, scenario, repo, passwordFile, accessKey, secretKey string) *project {
	t.Helper()
	return newPreparedProject(t, scenario, func(p *project) {
		dotenv := fmt.Sprintf("E2E_COPY_REPOSITORY=%s\nE2E_COPY_PASSWORD_FILE=%s\nE2E_COPY_ACCESS_KEY=%s\nE2E_COPY_SECRET_KEY=%s\n",
			repo, passwordFile, accessKey, secretKey)
		if err := os.WriteFile(filepath.Join(p.dir, ".env"), []byte(dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	})
}

// copyRepos are the two repositories of the copy project, read with plain restic.
type copyRepos struct {
	primary, primaryPassword string
	copy, copyPassword       string
	copyEnv                  []string
}

func (c copyRepos) snapshots(t *testing.T, ofCopy bool) []copySnapshot {
	t.Helper()
	repo, password, env := c.primary, c.primaryPassword, []string(nil)
	if ofCopy {
		repo, password, env = c.copy, c.copyPassword, c.copyEnv
	}
	var snaps []copySnapshot
	if err := json.Unmarshal([]byte(resticJSONEnv(t, repo, password, env, "snapshots", "--no-lock")), &snaps); err != nil {
		t.Fatalf("reading restic snapshots: %v", err)
	}
	return snaps
}

// locks lists the lock files of a repository.
func (c copyRepos) locks(t *testing.T, ofCopy bool) []string {
	t.Helper()
	repo, password, env := c.primary, c.primaryPassword, []string(nil)
	if ofCopy {
		repo, password, env = c.copy, c.copyPassword, c.copyEnv
	}
	r := resticCmd(repo, password, env, "--no-cache", "--no-lock", "list", "locks").run()
	if r.code != 0 {
		t.Fatalf("restic list locks: %v", r)
	}
	return lines(r.stdout)
}

// rawSize is restic stats --mode raw-data's total_size: what the snapshots' data takes.
func (c copyRepos) rawSize(t *testing.T, ofCopy bool) int64 {
	t.Helper()
	repo, password, env := c.primary, c.primaryPassword, []string(nil)
	if ofCopy {
		repo, password, env = c.copy, c.copyPassword, c.copyEnv
	}
	var stats struct {
		TotalSize int64 `json:"total_size"`
	}
	if err := json.Unmarshal([]byte(resticJSONEnv(t, repo, password, env, "stats", "--mode", "raw-data", "--no-lock")), &stats); err != nil {
		t.Fatalf("reading restic stats: %v", err)
	}
	return stats.TotalSize
}

// holdsExactly checks that the copy holds each of the primary's confirmed snapshots
// once, and nothing else: its snapshots' originals are the primary's IDs.
func (c copyRepos) holdsExactly(t *testing.T) int {
	t.Helper()
	var want []string
	for _, s := range c.snapshots(t, false) {
		if !slices.Contains(s.Tags, "unconfirmed") {
			want = append(want, s.ID)
		}
	}
	var got []string
	for _, s := range c.snapshots(t, true) {
		if s.Original == "" {
			t.Errorf("copy snapshot %s records no original", s.ID)
		}
		got = append(got, s.Original)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the copy's originals are\n%q\nwant the primary's confirmed snapshots, each once:\n%q", got, want)
	}
	return len(got)
}

// TestCopy backs a project with PostgreSQL and a volume up into a local repository and
// copies it to a MinIO copy repository with its own password and credentials: up, copy,
// up, copy leave the copy with exactly the primary's snapshots, each once, in about the
// same space (the copy is created with the primary's chunker parameters); a copy killed
// with kill -9 mid-way leaves no lock in either repository and the next copy completes
// it without duplicates; the copy's retention keeps its own count.
func TestCopy(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	copyPassword := passwordFile(t)
	copyRepo := m.Repo("copy-" + randomHex(3))
	p := newCopyProject(t, "copy", copyRepo, copyPassword, m.AccessKey, m.SecretKey)
	repos := copyRepos{
		primary: filepath.Join(p.dir, "backups"), primaryPassword: filepath.Join(p.dir, "backups.key"),
		copy: copyRepo, copyPassword: copyPassword, copyEnv: m.Env(),
	}
	// MinIO listens on loopback: the helpers use the host's network.
	net := []string{"DOCKER_BACKUP_NETWORK=host"}
	run := func(args ...string) result {
		t.Helper()
		c := p.cmd(append([]string{"docker", "backup"}, args...))
		c.env = append(c.env, net...)
		r := c.run()
		t.Logf("%s: exit code %d", r.cmd, r.code)
		return r
	}
	p.pgSQL(t, "db", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note number ' || g FROM generate_series(1, 1000) g;")
	p.exec(t, "files", "sh", "-c", "mkdir -p /srv/uploads/a && head -c 20000000 /dev/urandom > /srv/uploads/a/blob && echo one > /srv/uploads/one.txt")

	t.Run("up, copy, up, copy: the copy holds each confirmed snapshot once", func(t *testing.T) {
		if r := run("up"); r.code != 0 {
			t.Fatalf("up: %v", r)
		}
		r := run("copy", "--json")
		if r.code != 0 {
			t.Fatalf("copy: %v", r)
		}
		if !strings.Contains(r.stdout, `"copy":"offsite"`) || !strings.Contains(r.stdout, `"copied":2`) {
			t.Errorf("copy --json does not say that offsite got 2 snapshots:\n%s", r.stdout)
		}
		if n := repos.holdsExactly(t); n != 2 {
			t.Errorf("the copy holds %d snapshots after the first copy, want 2", n)
		}
		p.exec(t, "files", "sh", "-c", "head -c 5000000 /dev/urandom > /srv/uploads/a/more && echo two > /srv/uploads/one.txt")
		p.pgSQL(t, "db", "INSERT INTO notes VALUES (1001, 'after the first copy');")
		if r := run("up"); r.code != 0 {
			t.Fatalf("second up: %v", r)
		}
		r = run("copy")
		if r.code != 0 {
			t.Fatalf("second copy: %v", r)
		}
		t.Logf("second copy:\n%s", r.stdout)
		if !strings.Contains(r.stdout, "offsite: copying 2 of 4 confirmed snapshot(s)") {
			t.Errorf("the second copy does not copy the 2 new snapshots only:\n%s", r.stdout)
		}
		if n := repos.holdsExactly(t); n != 4 {
			t.Errorf("the copy holds %d snapshots after the second copy, want 4", n)
		}
		// Copied data deduplicates as in the primary: same chunker parameters.
		src, dst := repos.rawSize(t, false), repos.rawSize(t, true)
		t.Logf("raw data: primary %d bytes, copy %d bytes", src, dst)
		if diff := float64(dst-src) / float64(src); diff > 0.1 || diff < -0.1 {
			t.Errorf("the copy's raw data is %d bytes, the primary's %d: more than 10 %% apart", dst, src)
		}
		// The copy was created by copy with the primary's chunker parameters.
		polynomial := func(ofCopy bool) string {
			repo, password, env := repos.primary, repos.primaryPassword, []string(nil)
			if ofCopy {
				repo, password, env = repos.copy, repos.copyPassword, repos.copyEnv
			}
			var config struct {
				Polynomial string `json:"chunker_polynomial"`
			}
			if err := json.Unmarshal([]byte(resticJSONEnv(t, repo, password, env, "cat", "config", "--no-lock")), &config); err != nil {
				t.Fatalf("reading the repository's config: %v", err)
			}
			return config.Polynomial
		}
		if src, dst := polynomial(false), polynomial(true); src == "" || src != dst {
			t.Errorf("chunker polynomial: primary %q, copy %q; want the same", src, dst)
		}
		// A copy never writes into the primary: its snapshots are untouched.
		for _, s := range repos.snapshots(t, false) {
			if s.Original != "" {
				t.Errorf("primary snapshot %s records an original: something was copied into it", s.ID)
			}
		}
		if r := run("init"); r.code != 0 || !strings.Contains(r.stdout, "copy repository offsite: "+copyRepo+" already exists") {
			t.Errorf("init with the copy repository made: %v", r)
		}
	})

	t.Run("a copy killed mid-way leaves no lock and resumes without duplicates", func(t *testing.T) {
		// Enough new data that restic copy is still uploading when the plugin is killed.
		p.exec(t, "files", "sh", "-c", "head -c 400000000 /dev/urandom > /srv/uploads/big")
		if r := run("up", "files"); r.code != 0 {
			t.Fatalf("up: %v", r)
		}
		plugin := filepath.Join(filepath.Dir(env.dockerConfig), "cli-plugins", "docker-backup")
		s := p.start(t, net, plugin, "copy")
		helper := p.waitHelper(t, "copy")
		// restic copy is under way once it holds its lock in the copy repository.
		eventually(t, helperWait, "the copy's lock", func() error {
			if len(repos.locks(t, true)) == 0 {
				return errors.New("no lock yet")
			}
			return nil
		})
		// Neither password nor the copy's credentials show in the helper's inspect.
		inspect := mustDocker(t, "inspect", helper)
		for name, secret := range map[string]string{"the copy's secret key": m.SecretKey, "the copy's password": readTrimmed(t, copyPassword),
			"the primary's password": readTrimmed(t, repos.primaryPassword)} {
			if strings.Contains(inspect, secret) {
				t.Errorf("docker inspect of the copy helper shows %s", name)
			}
		}
		s.signal(t, syscall.SIGKILL)
		s.wait(t, helperWait)
		eventually(t, helperWait, "the killed copy's helper to end", func() error {
			if st := state(t, helper); st == "running" {
				return errors.New("still running")
			}
			return nil
		})
		// restic ran held by the agent: with the plugin gone, it was stopped and
		// removed its locks, the copy's and the primary's read lock.
		if l := repos.locks(t, true); len(l) != 0 {
			t.Errorf("locks left in the copy repository after the kill: %q", l)
		}
		if l := repos.locks(t, false); len(l) != 0 {
			t.Errorf("locks left in the primary repository after the kill: %q", l)
		}
		before := len(repos.snapshots(t, true))
		t.Logf("the copy holds %d snapshots after the kill (the big one was under way)", before)
		r := run("copy")
		if r.code != 0 {
			t.Fatalf("copy after the kill: %v", r)
		}
		t.Logf("copy after the kill:\n%s", r.stdout)
		if n := repos.holdsExactly(t); n != 5 || before >= 5 {
			t.Errorf("the copy holds %d snapshots after the resumed copy (%d after the kill: want it killed before the 5th), want 5", n, before)
		}
		if l := repos.locks(t, true); len(l) != 0 {
			t.Errorf("locks left in the copy repository: %q", l)
		}
	})

	t.Run("the copy keeps its own count", func(t *testing.T) {
		if r := run("up", "db"); r.code != 0 {
			t.Fatalf("up: %v", r)
		}
		r := run("-f", "compose.yaml", "-f", "compose.retention.yaml", "copy")
		if r.code != 0 {
			t.Fatalf("copy with keep_last 1: %v", r)
		}
		count := func(snaps []copySnapshot) map[string]int {
			by := map[string]int{}
			for _, s := range snaps {
				by[s.service()]++
			}
			return by
		}
		if got := count(repos.snapshots(t, true)); got["db"] != 1 || got["files"] != 1 || len(got) != 2 {
			t.Errorf("the copy holds %v snapshots a service, want 1 of db and 1 of files (its keep_last 1)", got)
		}
		if got := count(repos.snapshots(t, false)); got["db"] != 3 || got["files"] != 3 {
			t.Errorf("the primary holds %v snapshots a service, want 3 each (its keep_last 5 keeps every one)", got)
		}
		if !strings.Contains(r.stdout, "forgotten") {
			t.Errorf("copy does not say what its retention forgot:\n%s", r.stdout)
		}
		// What the copy's retention forgot is not copied again: the policy is asked of
		// the primary's series first.
		r = run("-f", "compose.yaml", "-f", "compose.retention.yaml", "copy")
		if r.code != 0 || !strings.Contains(r.stdout, "offsite: up to date") {
			t.Errorf("a second copy with keep_last 1 is not up to date: %v", r)
		}
	})

	t.Run("a copy repository that fails is one line, and the others still run", func(t *testing.T) {
		if r := run("up", "db"); r.code != 0 {
			t.Fatalf("up: %v", r)
		}
		r := run("-f", "compose.yaml", "-f", "compose.retention.yaml", "-f", "compose.broken.yaml", "copy")
		if r.code != 1 {
			t.Fatalf("copy with a broken copy repository: exit code %d, want 1: %v", r.code, r)
		}
		var failed []string
		for _, l := range lines(r.stdout) {
			if strings.Contains(l, "FAILED") {
				failed = append(failed, l)
			}
		}
		// (The project's folder may show as ***: the environment's PWD is taken for a
		// secret by its name.)
		if len(failed) != 1 || !strings.HasPrefix(failed[0], "broken: FAILED: copy repository ") || !strings.Contains(failed[0], "/no-such-disk/shop") {
			t.Errorf("failure lines %q, want one naming copy broken and its repository", failed)
		}
		if !strings.Contains(r.stderr, "copy failed for broken") {
			t.Errorf("stderr: %s", r.stderr)
		}
		var newestDB string
		for _, s := range repos.snapshots(t, false) {
			if s.service() == "db" {
				newestDB = s.ID // restic lists oldest first
			}
		}
		var dbOriginals []string
		for _, s := range repos.snapshots(t, true) {
			if s.service() == "db" {
				dbOriginals = append(dbOriginals, s.Original)
			}
		}
		if len(dbOriginals) != 1 || dbOriginals[0] != newestDB {
			t.Errorf("offsite holds db snapshots of %q, want the newest alone, %s: it was not copied beside the broken one", dbOriginals, newestDB)
		}
	})
}

// readTrimmed is a file's content without its surrounding blanks.
func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
