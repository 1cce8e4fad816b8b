//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// verifyBound bounds one drill of a started verify: a throwaway server's first start
// (initdb, mariadb's install of its system tables) and a small restore take seconds.
const verifyBound = 5 * time.Minute

// verifyHeader is the header of verify's table, cell by cell.
var verifyHeader = []string{"SERVICE", "SNAPSHOT", "RESTORE", "RESULT", "DETAIL"}

// drillRow is one row of verify's table, with the indented lines printed below it (a
// failure's further lines: the restore command's stderr tail).
type drillRow struct {
	line                                       string
	service, snapshot, restore, result, detail string
	more                                       []string
}

// verifyTable reads verify's table from its stdout: the header, then a row per service
// (it begins with the service's name) and indented lines that belong to the row above.
// It checks that the rows right under the header have their RESULT where the header has
// it (tabwriter's alignment; a row's indented lines end tabwriter's column block, so the
// rows after them are not compared).
func verifyTable(t *testing.T, r result) map[string]*drillRow {
	t.Helper()
	all := strings.Split(r.stdout, "\n")
	h := slices.IndexFunc(all, func(l string) bool { return slices.Equal(strings.Fields(l), verifyHeader) })
	if h < 0 {
		t.Fatalf("no table header %q in verify's stdout: %v", strings.Join(verifyHeader, "  "), r)
	}
	resultCol := strings.Index(all[h], "RESULT")
	rows := map[string]*drillRow{}
	var last *drillRow
	aligned := true
	for _, l := range all[h+1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if last != nil {
				last.more = append(last.more, strings.TrimSpace(l))
			}
			aligned = false
			continue
		}
		f := strings.Fields(l)
		row := &drillRow{line: l, service: f[0]}
		// The result is the first of ok, failed, skipped after the service's name; the
		// cells between are the snapshot and the restore's time, the rest is the detail.
		at := slices.IndexFunc(f[1:], func(s string) bool { return s == "ok" || s == "failed" || s == "skipped" })
		if at < 0 {
			// Not a row: a closing line such as --keep's docker rm lines.
			last = nil
			continue
		}
		at++
		cells := f[1:at]
		if len(cells) > 0 {
			row.snapshot = cells[0]
		}
		if len(cells) > 1 {
			row.restore = cells[1]
		}
		row.result = f[at]
		// The detail as printed, spaces and all: what follows the result's cell.
		pos := 0
		for i := 0; i <= at; i++ {
			pos += strings.Index(l[pos:], f[i])
			if i < at {
				pos += len(f[i])
			}
		}
		if aligned && pos != resultCol {
			t.Errorf("row %q has its result at column %d, the header's RESULT is at %d (tabwriter alignment):\n%s", f[0], pos, resultCol, r.stdout)
		}
		row.detail = strings.TrimSpace(l[pos+len(f[at]):])
		if _, dup := rows[row.service]; dup {
			t.Errorf("verify's table has two rows for %s:\n%s", row.service, r.stdout)
		}
		rows[row.service] = row
		last = row
	}
	return rows
}

// row returns a service's row of verify's table, failing the test without one.
func verifyRowOf(t *testing.T, rows map[string]*drillRow, service string, r result) *drillRow {
	t.Helper()
	row, ok := rows[service]
	if !ok {
		t.Fatalf("verify's table has no row for %s: %v", service, r)
	}
	return row
}

// drillReport is `docker backup verify --json`.
type drillReport struct {
	Project  string       `json:"project"`
	Services []drillEntry `json:"services"`
}

// drillEntry is one service of verify --json.
type drillEntry struct {
	Service        string  `json:"service"`
	Strategy       string  `json:"strategy"`
	Snapshot       string  `json:"snapshot"`
	RestoreSeconds float64 `json:"restore_seconds"`
	Result         string  `json:"result"`
	Detail         string  `json:"detail"`
	Error          string  `json:"error"`
}

// verifyJSON reads verify --json's one document from its stdout, by service, and checks
// that it names the project.
func (p *project) verifyJSON(t *testing.T, r result) map[string]drillEntry {
	t.Helper()
	var rep drillReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify --json's stdout is not one JSON document: %v\n%v", err, r)
	}
	if rep.Project != p.name {
		t.Errorf("verify --json names project %q, want %q", rep.Project, p.name)
	}
	m := map[string]drillEntry{}
	for _, e := range rep.Services {
		if _, dup := m[e.Service]; dup {
			t.Errorf("verify --json lists %s twice: %s", e.Service, r.stdout)
		}
		m[e.Service] = e
	}
	return m
}

// latestSnapshot is the ID of a service's latest snapshot, with plain restic.
func (p *project) latestSnapshot(t *testing.T, service string) string {
	t.Helper()
	snaps := p.serviceSnapshots(t, service)
	if len(snaps) == 0 {
		t.Fatalf("service %s has no snapshot", service)
	}
	return snaps[len(snaps)-1].ID
}

// checkSnapshotCell checks a table row's SNAPSHOT: the snapshot's ID or a prefix of it
// of at least 8 digits (restic's short ID).
func checkSnapshotCell(t *testing.T, row *drillRow, want string) {
	t.Helper()
	if len(row.snapshot) < 8 || !strings.HasPrefix(want, row.snapshot) {
		t.Errorf("%s's SNAPSHOT is %q, want the ID (or its short form) of %s", row.service, row.snapshot, want)
	}
}

// timedBackup runs `docker backup args…` and returns what it left with the times just
// before it started and just after it ended.
func (p *project) timedBackup(t *testing.T, args ...string) (r result, since, until time.Time) {
	t.Helper()
	since = time.Now()
	r = p.backup(t, args...)
	return r, since, time.Now()
}

// checkDrillEnded fails the test if a throwaway of the project's drill is left: a
// container labelled io.docker-backup.kind=verify (or any other of ours: anchors,
// helpers, stop records, as checkRunEnded sees them), or a volume that carries the
// project's label (a verify-only project has no restore's rollback volume to keep).
func (p *project) checkDrillEnded(t *testing.T) {
	t.Helper()
	p.checkRunEnded(t)
	if left := mustDocker(t, "ps", "-a", "--filter", "label="+labelKind+"=verify", "--filter", "label="+labelProject+"="+p.name,
		"--format", "{{.Names}} ({{.Status}})"); strings.TrimSpace(left) != "" {
		t.Errorf("throwaway containers left after verify ended: %s", left)
	}
	// Throwaway volumes, temporary ones (io.docker-backup.temporary) among them.
	if left := mustDocker(t, "volume", "ls", "-q", "--filter", "label="+labelProject+"="+p.name); strings.TrimSpace(left) != "" {
		t.Errorf("volumes of ours left after verify ended: %s", strings.Join(lines(left), " "))
	}
}

// checkLiveUntouched fails the test if the engine saw a live container of the project
// (taken before the drill) start, stop, die, be killed, restart or pause between since
// and until (rec records the project's containers): the drill works on copies.
func checkLiveUntouched(t *testing.T, rec *eventRecorder, live map[string]string, since, until time.Time) {
	t.Helper()
	touched := []string{"stop", "start", "die", "kill", "restart", "pause"}
	for svc, id := range live {
		var evs []string
		for _, ev := range rec.of(id, since, until) {
			if slices.Contains(touched, ev.action) {
				evs = append(evs, strings.TrimSpace(ev.action+" "+ev.signal))
			}
		}
		if len(evs) > 0 {
			t.Errorf("the live container of %s had events during the drill: %q", svc, evs)
		}
	}
}

// treeOf is the manifest (treeScript) of a folder in a service's live container.
func (p *project) treeOf(t *testing.T, service, dir string) string {
	t.Helper()
	return p.exec(t, service, "sh", "-c", treeScript, "sh", dir)
}

// verifyDBState is what the verify-db project's live services hold, to compare before and
// after a drill.
func (p *project) verifyDBState(t *testing.T) string {
	t.Helper()
	return "pg: " + p.pgRows(t, "pg") + "\nshop: " + p.mariaRows(t) + "\ncache: " + p.exec(t, "cache", "redis-cli", "mget", "greeting", "count") +
		"\nfiles:\n" + p.treeOf(t, "files", "/data")
}

// waitThrowaway waits for a running throwaway container of the project's drill
// (io.docker-backup.kind=verify) whose processes include what, and returns its ID.
func (p *project) waitThrowaway(t *testing.T, s *started, what string) string {
	t.Helper()
	var id string
	eventually(t, verifyBound, "a throwaway copy of "+p.name+" running "+what, func() error {
		if s.exited() {
			t.Fatalf("verify ended before a throwaway ran %s: %v", what, s.res)
		}
		ids := lines(mustDocker(t, "ps", "-q", "--filter", "label="+labelKind+"=verify", "--filter", "label="+labelProject+"="+p.name))
		for _, c := range ids {
			if top := (cmdSpec{argv: []string{"docker", "top", c, "-o", "pid,args"}}).run(); strings.Contains(top.stdout, what) {
				id = c
				return nil
			}
		}
		return fmt.Errorf("throwaways %q, none runs %s yet", ids, what)
	})
	return id
}

// labelsOf reads a container's or a volume's labels.
func labelsOf(t *testing.T, kind, id string) map[string]string {
	t.Helper()
	format := "{{json .Config.Labels}}"
	args := []string{"inspect", "--format", format, id}
	if kind == "volume" {
		args = []string{"volume", "inspect", "--format", "{{json .Labels}}", id}
	}
	var labels map[string]string
	if err := json.Unmarshal([]byte(mustDocker(t, args...)), &labels); err != nil {
		t.Fatalf("reading the labels of %s %s: %v", kind, id, err)
	}
	return labels
}

// TestVerifyGoodBackups backs up PostgreSQL, MariaDB, Redis and a file volume once and drills
// the restore of them: all pass and report what they found; a volume check of the
// service's own fails while its marker is only live and passes once a backup holds it
// (and fails again on the older snapshot, chosen with --snapshot); --keep leaves the
// throwaway copy, which holds the restored data and nothing of the live service, until
// the lines it printed remove it; Ctrl-C during a check ends verify with 130. After
// each: nothing of the drill is left, no live container was stopped or started, and the
// live data is unchanged.
func TestVerifyGoodBackups(t *testing.T) {
	t.Parallel()
	p := newProject(t, "verify-db")
	p.pgSQL(t, "pg", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 500) g;")
	p.mariaSQL(t, "CREATE TABLE items (id int PRIMARY KEY, name varchar(40)); INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');")
	p.exec(t, "files", "sh", "-c", "set -e; mkdir -p /data/docs/deep; printf 'hello\\n' > /data/docs/readme.txt; "+
		"head -c 300000 /dev/urandom > /data/docs/deep/blob.bin; : > /data/empty")
	p.exec(t, "cache", "redis-cli", "mset", "greeting", "hello", "count", "3")
	p.mustBackup(t, "up")
	live := p.containers(t)
	liveEvents := recordContainerEvents(t, "label=com.docker.compose.project="+p.name)
	liveState := p.verifyDBState(t)
	checkLive := func(t *testing.T, since, until time.Time) {
		t.Helper()
		p.checkDrillEnded(t)
		checkLiveUntouched(t, liveEvents, live, since, until)
		if got := p.verifyDBState(t); got != liveState {
			t.Errorf("the live data changed during the drill:\n%s\nwant:\n%s", got, liveState)
		}
	}

	t.Run("every service's latest backup passes and the table says what it found", func(t *testing.T) {
		r, since, until := p.timedBackup(t, "verify")
		if r.code != 0 {
			t.Errorf("want exit code 0, got %v", r)
		}
		rows := verifyTable(t, r)
		for svc, detail := range map[string]string{"pg": "appdb (1 table)", "shop": "shop (1 table)", "cache": "2 keys in 1 database", "files": ""} {
			row := verifyRowOf(t, rows, svc, r)
			if row.result != "ok" || !strings.Contains(row.detail, detail) {
				t.Errorf("%s: result %q, detail %q; want ok and a detail with %q\n%s", svc, row.result, row.detail, detail, r.stdout)
			}
			checkSnapshotCell(t, row, p.latestSnapshot(t, svc))
			if row.restore == "" {
				t.Errorf("%s's RESTORE is empty: %q", svc, row.line)
			}
		}
		for _, svc := range []string{"pg", "shop"} {
			if d := rows[svc].detail; !strings.HasPrefix(d, "databases ") {
				t.Errorf("%s's detail %q does not begin with \"databases \"", svc, d)
			}
		}
		if len(rows) != 4 {
			t.Errorf("verify's table has %d rows, want pg, shop, cache and files:\n%s", len(rows), r.stdout)
		}
		checkLive(t, since, until)
	})

	t.Run("a volume check decides, on the backup and not on the live volume", func(t *testing.T) {
		first := p.latestSnapshot(t, "files")
		// The marker is live, not in the backup: the drill must not see it.
		p.exec(t, "files", "touch", "/data/marker")
		liveState = p.verifyDBState(t)
		r, since, until := p.timedBackup(t, "-f", "compose.yaml", "-f", "compose.marker.yaml", "verify", "files", "--json")
		if r.code != 1 {
			t.Errorf("want exit code 1 for a backup without the marker, got %v", r)
		}
		e, ok := p.verifyJSON(t, r)["files"]
		if !ok || e.Result != "failed" || e.Strategy != "volumes" || e.Snapshot != first || e.Error == "" {
			t.Errorf("files in verify --json: %+v; want failed, strategy volumes, snapshot %s and an error\n%v", e, first, r)
		}
		checkLive(t, since, until)

		p.mustBackup(t, "up", "files")
		second := p.latestSnapshot(t, "files")
		if second == first {
			t.Fatalf("up made no new snapshot of files")
		}
		r, since, until = p.timedBackup(t, "-f", "compose.yaml", "-f", "compose.marker.yaml", "verify", "files", "--json")
		if r.code != 0 {
			t.Errorf("want exit code 0 once the marker is backed up, got %v", r)
		}
		entries := p.verifyJSON(t, r)
		if e := entries["files"]; e.Result != "ok" || e.Snapshot != second || e.Strategy != "volumes" || e.Error != "" {
			t.Errorf("files in verify --json: %+v; want ok on snapshot %s with no error\n%v", e, second, r)
		}
		if len(entries) != 1 {
			t.Errorf("verify files --json reports %d services, want files only: %s", len(entries), r.stdout)
		}
		checkLive(t, since, until)

		// The older snapshot, by its ID's prefix, still lacks the marker.
		r, since, until = p.timedBackup(t, "-f", "compose.yaml", "-f", "compose.marker.yaml", "verify", "files", "--snapshot", first[:8], "--json")
		if r.code != 1 {
			t.Errorf("want exit code 1 on the older snapshot, got %v", r)
		}
		if e := p.verifyJSON(t, r)["files"]; e.Result != "failed" || e.Snapshot != first {
			t.Errorf("files in verify --snapshot %s --json: %+v; want failed on %s", first[:8], e, first)
		}
		checkLive(t, since, until)
	})

	t.Run("--keep leaves the copy with the restored data until its printed lines remove it", func(t *testing.T) {
		r, since, until := p.timedBackup(t, "verify", "pg", "--keep")
		if r.code != 0 {
			t.Fatalf("want exit code 0, got %v", r)
		}
		if row := verifyRowOf(t, verifyTable(t, r), "pg", r); row.result != "ok" {
			t.Errorf("pg's result %q, want ok: %q", row.result, row.line)
		}
		checkLiveUntouched(t, liveEvents, live, since, until)
		kept := lines(mustDocker(t, "ps", "-aq", "--no-trunc", "--filter", "label="+labelKind+"=verify", "--filter", "label="+labelProject+"="+p.name))
		if len(kept) != 1 {
			t.Fatalf("want one throwaway copy of pg kept, got %q", kept)
		}
		copyID := kept[0]
		labels := labelsOf(t, "container", copyID)
		if labels[labelProject] != p.name || labels[labelKind] != "verify" || labels["io.docker-backup.run"] == "" {
			t.Errorf("the copy's labels %v lack project %s, kind verify or a run", labels, p.name)
		}
		for k := range labels {
			if strings.HasPrefix(k, "com.docker.compose.") {
				t.Errorf("the copy carries compose's label %s: compose would take it for a container of the project", k)
			}
		}
		if mode := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.HostConfig.NetworkMode}}", copyID)); mode != "none" {
			t.Errorf("the copy's network mode is %q, want none", mode)
		}
		if img, want := mustDocker(t, "inspect", "--format", "{{.Image}}", copyID), mustDocker(t, "inspect", "--format", "{{.Image}}", live["pg"]); img != want {
			t.Errorf("the copy runs image %s, the service %s", img, want)
		}
		var envs []string
		if err := json.Unmarshal([]byte(mustDocker(t, "inspect", "--format", "{{json .Config.Env}}", copyID)), &envs); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(envs, "POSTGRES_PASSWORD=app-secret") || !slices.Contains(envs, "POSTGRES_USER=app") {
			t.Errorf("the copy's environment keeps the live password or lost the user: %q", envs)
		}
		liveVolume := p.volume(t, "pgdata")
		mounts := mustDocker(t, "inspect", "--format", `{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{"\n"}}{{end}}`, copyID)
		var dataMount string
		for _, m := range lines(mounts) {
			f := strings.Fields(m)
			if strings.Contains(m, liveVolume) {
				t.Errorf("the copy mounts the live volume: %s", m)
			}
			if len(f) == 3 && f[2] == "/var/lib/postgresql/data" {
				dataMount = f[1]
			}
		}
		if dataMount == "" {
			t.Errorf("the copy has no volume at /var/lib/postgresql/data: %q", mounts)
		} else if vl := labelsOf(t, "volume", dataMount); vl[labelProject] != p.name || vl["io.docker-backup.run"] != labels["io.docker-backup.run"] {
			t.Errorf("the copy's volume %s has labels %v, want project %s and the copy's run", dataMount, vl, p.name)
		}
		if st := strings.TrimSpace(mustDocker(t, "inspect", "--format", "{{.State.Status}}", copyID)); st == "running" {
			got := strings.TrimSpace(mustDocker(t, "exec", copyID, "psql", "-X", "-A", "-t", "-U", "app", "-d", "appdb", "-c",
				"SELECT count(*) || ' ' || md5(coalesce(string_agg(id || ':' || body, ',' ORDER BY id), '')) FROM notes"))
			if want := p.pgRows(t, "pg"); got != want {
				t.Errorf("the kept copy's notes: %s, want the backed-up %s", got, want)
			}
		} else {
			t.Logf("the kept copy is %s: its data is not compared", st)
		}

		var rm, volumeRm int
		for _, l := range lines(r.stdout + "\n" + r.stderr) {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "docker rm "):
				rm++
			case strings.HasPrefix(l, "docker volume rm "):
				volumeRm++
			default:
				continue
			}
			if rr := (cmdSpec{argv: []string{"sh", "-c", l}}).run(); rr.code != 0 {
				t.Errorf("running verify's line %q: %v", l, rr)
			}
		}
		if rm == 0 || volumeRm == 0 {
			t.Errorf("verify --keep printed %d docker rm and %d docker volume rm lines, want both: %v", rm, volumeRm, r)
		}
		p.checkDrillEnded(t)
		if got := p.verifyDBState(t); got != liveState {
			t.Errorf("the live data changed:\n%s\nwant:\n%s", got, liveState)
		}
	})

	t.Run("Ctrl-C during the check ends verify with 130 and leaves nothing", func(t *testing.T) {
		since := time.Now()
		s := p.start(t, nil, pluginBin(), "-f", "compose.yaml", "-f", "compose.slow.yaml", "verify", "pg")
		copyID := p.waitThrowaway(t, s, "sleep 120")
		s.signal(t, syscall.SIGINT)
		r := s.wait(t, restoreBound)
		until := time.Now()
		if r.code != 130 {
			t.Errorf("want exit code 130 after Ctrl-C, got %v", r)
		}
		if st := state(t, copyID); st != "" {
			t.Errorf("the throwaway copy is still there (%s) after Ctrl-C", st)
		}
		checkLive(t, since, until)
	})

	t.Run("a drill killed with -9 leaves its copy to the next command, which removes it", func(t *testing.T) {
		since := time.Now()
		s := p.start(t, nil, pluginBin(), "-f", "compose.yaml", "-f", "compose.slow.yaml", "verify", "pg")
		copyID := p.waitThrowaway(t, s, "sleep 120")
		s.signal(t, syscall.SIGKILL)
		s.wait(t, restoreBound)
		if st := state(t, copyID); st == "" {
			t.Fatal("the throwaway copy is gone already: nothing left for the recovery to do")
		}
		// The next command of the project (another drill here) recovers first.
		r := p.backup(t, "verify", "shop")
		until := time.Now()
		if r.code != 0 {
			t.Errorf("the drill after the kill: %v", r)
		}
		if st := state(t, copyID); st != "" {
			t.Errorf("the killed drill's copy is still there (%s) after the next command", st)
		}
		checkLive(t, since, until)
	})

	t.Run("bad input is refused with exit code 2 before anything runs", func(t *testing.T) {
		for _, args := range [][]string{{"verify", "nosuch"}, {"verify", "--timeout", "soon"}} {
			r := p.backup(t, args...)
			if r.code != 2 {
				t.Errorf("want exit code 2, got %v", r)
			}
			if args[1] == "nosuch" && !strings.Contains(r.stderr, "nosuch") {
				t.Errorf("the error does not name the unknown service: %v", r)
			}
		}
		p.checkDrillEnded(t)
	})
}

// TestVerifyBadBackups drills backups that restore badly: a dump that the preset's
// restore rejects fails with the restore's own error below its row, and a database with
// no table fails the preset's default check; a check of the service's own then decides.
// Nothing is left and the live servers are untouched.
func TestVerifyBadBackups(t *testing.T) {
	t.Parallel()
	p := newProject(t, "verify-bad")
	p.pgSQL(t, "garbage", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 20) g;")
	p.mustBackup(t, "up")
	if dump := p.storedDump(t, "garbage", "garbage.sql"); dump != "this is not SQL;\n" {
		t.Fatalf("garbage's stored dump is %q, want the garbage text", dump)
	}
	live := p.containers(t)
	liveEvents := recordContainerEvents(t, "label=com.docker.compose.project="+p.name)
	emptyState := func() string {
		return strings.TrimSpace(p.exec(t, "empty", "psql", "-X", "-A", "-t", "-U", "app", "-d", "emptydb", "-c",
			"SELECT (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database) || ' ' || "+
				"(SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))"))
	}
	liveState := func() string { return "garbage: " + p.pgRows(t, "garbage") + "\nempty: " + emptyState() }
	before := liveState()
	if !strings.HasSuffix(before, " 0") || !strings.Contains(before, "emptydb") {
		t.Fatalf("empty's server should hold emptydb and no table: %s", before)
	}
	checkLive := func(t *testing.T, since, until time.Time) {
		t.Helper()
		p.checkDrillEnded(t)
		checkLiveUntouched(t, liveEvents, live, since, until)
		if got := liveState(); got != before {
			t.Errorf("the live data changed during the drill:\n%s\nwant:\n%s", got, before)
		}
	}

	t.Run("a rejected dump and an empty database fail, each on its row", func(t *testing.T) {
		r, since, until := p.timedBackup(t, "verify")
		if r.code != 1 {
			t.Errorf("want exit code 1, got %v", r)
		}
		rows := verifyTable(t, r)
		garbage := verifyRowOf(t, rows, "garbage", r)
		if garbage.result != "failed" || garbage.detail == "" {
			t.Errorf("garbage: result %q, detail %q; want failed with the failure's first line", garbage.result, garbage.detail)
		}
		// The row says what failed with psql's first line; psql's further lines follow
		// below the table, under the service's name.
		if !strings.Contains(garbage.detail, `syntax error at or near "this"`) || !strings.Contains(r.stdout, "garbage:\n    LINE 1: this is not SQL;") {
			t.Errorf("garbage: want psql's error on its row and its further lines below the table:\n%s", r.stdout)
		}
		checkSnapshotCell(t, garbage, p.latestSnapshot(t, "garbage"))
		empty := verifyRowOf(t, rows, "empty", r)
		if empty.result != "failed" || !strings.Contains(empty.detail, "database emptydb holds no table") {
			t.Errorf("empty: result %q, detail %q; want failed saying database emptydb holds no table", empty.result, empty.detail)
		}
		checkSnapshotCell(t, empty, p.latestSnapshot(t, "empty"))
		checkLive(t, since, until)
	})

	t.Run("the service's own check decides over the preset's", func(t *testing.T) {
		r, since, until := p.timedBackup(t, "-f", "compose.yaml", "-f", "compose.query.yaml", "verify", "empty", "--json")
		if r.code != 0 {
			t.Errorf("want exit code 0, got %v", r)
		}
		entries := p.verifyJSON(t, r)
		e, ok := entries["empty"]
		if !ok || e.Result != "ok" || e.Strategy != "dump" || e.Detail != "emptydb answers 1" || e.Error != "" {
			t.Errorf("empty in verify --json: %+v; want ok, strategy dump, detail %q, no error\n%v", e, "emptydb answers 1", r)
		}
		if want := p.latestSnapshot(t, "empty"); e.Snapshot != want {
			t.Errorf("empty's snapshot in verify --json: %q, want the full ID %s", e.Snapshot, want)
		}
		if e.RestoreSeconds <= 0 {
			t.Errorf("empty's restore_seconds is %v, want the restore's time", e.RestoreSeconds)
		}
		if len(entries) != 1 {
			t.Errorf("verify empty --json reports %d services, want empty only: %s", len(entries), r.stdout)
		}
		checkLive(t, since, until)
	})
}
