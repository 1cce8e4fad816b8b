//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Our labels, as the run package writes them.
const (
	labelProject = "io.docker-backup.project"
	labelKind    = "io.docker-backup.kind"
	labelHelper  = "io.docker-backup.helper"
	labelStopped = "io.docker-backup.stopped"
)

// pluginBin is the binary under test, for a test that must signal the plugin's own
// process (the docker CLI would stand in between).
func pluginBin() string {
	return filepath.Join(filepath.Dir(env.dockerConfig), "cli-plugins", "docker-backup")
}

// localRepo is the project's default local repository and its generated key file.
func (p *project) localRepo() (repo, key string) {
	return filepath.Join(p.dir, "backups"), filepath.Join(p.dir, "backups.key")
}

// started is a command a test started without waiting for it.
type started struct {
	cmd            *exec.Cmd
	argv           string
	stdin          io.WriteCloser // with startSpec(…, true)
	stdout, stderr bytes.Buffer
	done           chan struct{}
	res            result
}

// startSpec starts a command with the tests' environment; with stdin, the test holds
// its input through s.stdin. Cleanup kills it if it still runs.
func startSpec(t *testing.T, c cmdSpec, stdin bool) *started {
	t.Helper()
	s := &started{cmd: exec.Command(c.argv[0], c.argv[1:]...), argv: strings.Join(c.argv, " "), done: make(chan struct{})}
	s.cmd.Dir = c.dir
	s.cmd.Env = append(append([]string{}, env.base...), c.env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if stdin {
		w, err := s.cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		s.stdin = w
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", s.argv, err)
	}
	go func() {
		err := s.cmd.Wait()
		s.res = result{cmd: s.argv, stdout: s.stdout.String(), stderr: s.stderr.String(), code: exitCodeOf(err)}
		close(s.done)
	}()
	t.Cleanup(func() {
		if !s.exited() {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// start starts `argv…` in the project's folder, with extra environment.
func (p *project) start(t *testing.T, extraEnv []string, argv ...string) *started {
	t.Helper()
	c := p.cmd(argv)
	c.env = append(c.env, extraEnv...)
	return startSpec(t, c, false)
}

func (s *started) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *started) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signalling %s: %v", s.argv, err)
	}
}

// wait waits for the command to exit and returns what it left; it fails the test when
// the command still runs after timeout.
func (s *started) wait(t *testing.T, timeout time.Duration) result {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		t.Fatalf("%s still runs after %s", s.argv, timeout)
	}
	t.Logf("%s: exit code %d", s.res.cmd, s.res.code)
	return s.res
}

// hostRestic prepares plain restic on the host (env.resticBin), with no cache, on a
// local repository: a process of another program, on another host name than the
// plugin's helpers.
func hostRestic(repo, key string, args ...string) cmdSpec {
	return cmdSpec{
		argv: append([]string{env.resticBin, "--no-cache"}, args...),
		env:  []string{"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD_FILE=" + key},
	}
}

// initRepo creates a local repository and its key file with plain restic, as the
// plugin's first up would (quicker than an up).
func initRepo(t *testing.T, repo, key string) {
	t.Helper()
	if err := os.WriteFile(key, []byte("e2e-"+randomHex(16)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := hostRestic(repo, key, "init").run(); r.code != 0 {
		t.Fatalf("creating the repository: %v", r)
	}
}

// locks lists the IDs of the repository's locks without taking one.
func locks(t *testing.T, repo, key string) []string {
	t.Helper()
	r := hostRestic(repo, key, "list", "locks", "--no-lock").run()
	if r.code != 0 {
		t.Fatalf("listing locks: %v", r)
	}
	return lines(r.stdout)
}

// snapshots lists a repository's snapshots with plain restic, oldest first.
func snapshots(t *testing.T, repo, key string, args ...string) []snapshot {
	t.Helper()
	var snaps []snapshot
	if err := json.Unmarshal([]byte(resticJSON(t, repo, key, append([]string{"snapshots"}, args...)...)), &snaps); err != nil {
		t.Fatalf("reading restic snapshots: %v", err)
	}
	return snaps
}

func (s snapshot) has(tag string) bool { return slices.Contains(s.Tags, tag) }

func snapshotIDs(snaps []snapshot) []string {
	var ids []string
	for _, s := range snaps {
		ids = append(ids, s.ID)
	}
	return ids
}

// listedRow is one row of `docker backup snapshots --json`.
type listedRow struct {
	ID      string `json:"id"`
	Host    string `json:"host"`
	Service string `json:"service"`
}

// listed runs `docker backup snapshots --json` with extra environment.
func (p *project) listed(t *testing.T, extraEnv ...string) []listedRow {
	t.Helper()
	r := p.backupEnv(t, extraEnv, "snapshots", "--json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var rows []listedRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("snapshots --json is not JSON: %v\n%s", err, r.stdout)
	}
	return rows
}

// backupEnv is backup with extra environment (DOCKER_BACKUP_HOST…).
func (p *project) backupEnv(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	c := p.cmd(append([]string{"docker", "backup"}, args...))
	c.env = append(c.env, extraEnv...)
	r := c.run()
	t.Logf("%s %s: exit code %d", strings.Join(extraEnv, " "), r.cmd, r.code)
	return r
}

// notesDB is the SQLite database of the run scenario's db service.
const notesDB = "/data/app.db"

// sqlite runs SQL on the db service's database and returns its output.
func (p *project) sqlite(t *testing.T, sql string) string {
	t.Helper()
	return p.exec(t, "db", "sqlite3", "-bail", notesDB, sql)
}

// seedNotes creates the notes table with n rows saying body.
func (p *project) seedNotes(t *testing.T, n int, body string) {
	t.Helper()
	p.sqlite(t, fmt.Sprintf("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); "+
		"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d) "+
		"INSERT INTO notes SELECT i, '%s ' || i FROM g;", n, body))
}

// notes is the notes table's row count and contents, in one line to compare.
func (p *project) notes(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.sqlite(t, "SELECT count(*) || ' ' || coalesce(group_concat(id || ':' || body, ','), '') "+
		"FROM (SELECT id, body FROM notes ORDER BY id)"))
}

// runningHelperKinds are the kinds of the project's helpers that run now.
func (p *project) runningHelperKinds(t *testing.T) []string {
	t.Helper()
	kinds := lines(mustDocker(t, "ps", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelHelper,
		"--format", `{{.Label "`+labelKind+`"}}`))
	// The run's anchor runs the restic commands that need no mounts of their own (its
	// host): each counts as a helper of that command's name.
	for _, anchor := range lines(mustDocker(t, "ps", "-q", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelKind+"=run")) {
		top := cmdSpec{argv: []string{"docker", "top", anchor, "-o", "pid,args"}}.run()
		for _, l := range lines(top.stdout) {
			f := strings.Fields(l)
			if i := slices.Index(f, "restic"); i >= 0 && i+1 < len(f) {
				kinds = append(kinds, f[i+1])
			}
		}
	}
	return kinds
}

// stopRecords are the project's stop records: volume name to the ID of the container
// a run recorded before stopping it.
func (p *project) stopRecords(t *testing.T) map[string]string {
	t.Helper()
	out := mustDocker(t, "volume", "ls", "--filter", "label="+labelProject+"="+p.name, "--filter", "label="+labelStopped,
		"--format", `{{.Name}} {{.Label "`+labelStopped+`"}}`)
	m := map[string]string{}
	for _, l := range lines(out) {
		name, id, _ := strings.Cut(l, " ")
		m[name] = id
	}
	return m
}

// recorded reports whether a stop record names the container (short or full ID).
func recorded(records map[string]string, id string) bool {
	for _, full := range records {
		if full != "" && strings.HasPrefix(full, id) {
			return true
		}
	}
	return false
}

// checkRunEnded fails the test if an anchor, a helper or a stop record of the project
// is left once its commands have ended.
func (p *project) checkRunEnded(t *testing.T) {
	t.Helper()
	if left := mustDocker(t, "ps", "-a", "--filter", "label="+labelProject+"="+p.name, "--format", "{{.Names}} ({{.Status}})"); strings.TrimSpace(left) != "" {
		t.Errorf("containers of ours left after the run ended: %s", left)
	}
	if records := p.stopRecords(t); len(records) > 0 {
		t.Errorf("stop records left after the run ended: %v", records)
	}
}

// machineName is the machine part of the default snapshot host: the engine's name and 6
// hex digits of the SHA-256 of its ID (or DOCKER_BACKUP_HOST when the tests run with it).
func machineName(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("DOCKER_BACKUP_HOST"); h != "" {
		return h
	}
	id, name, _ := strings.Cut(strings.TrimSpace(mustDocker(t, "info", "--format", "{{.ID}} {{.Name}}")), " ")
	sum := sha256.Sum256([]byte(id))
	name = strings.Trim(regexp.MustCompile(`[^a-zA-Z0-9._-]+`).ReplaceAllString(name, "-"), "-")
	return name + "-" + hex.EncodeToString(sum[:3])
}
