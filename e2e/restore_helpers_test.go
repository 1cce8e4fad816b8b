//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// timedSnapshot is a snapshot with its time, as plain restic lists it.
type timedSnapshot struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Tags []string  `json:"tags"`
}

// serviceSnapshots lists a service's snapshots in the project's default repository,
// oldest first, with plain restic.
func (p *project) serviceSnapshots(t *testing.T, service string) []timedSnapshot {
	t.Helper()
	repo := filepath.Join(p.dir, "backups")
	out := resticJSON(t, repo, repo+".key", "snapshots", "--tag", "service="+service)
	var snaps []timedSnapshot
	if err := json.Unmarshal([]byte(out), &snaps); err != nil {
		t.Fatalf("reading restic snapshots: %v", err)
	}
	return snaps
}

// mustBackup runs `docker backup args…` and fails the test unless it exits 0.
func (p *project) mustBackup(t *testing.T, args ...string) result {
	t.Helper()
	r := p.backup(t, args...)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return r
}

// treeScript prints a tree's manifest: every path with its type, mode, owner and link
// target, then every file's SHA-256, sorted.
const treeScript = `cd "$1" && find . -printf '%p %y %m %U:%G %l\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort`

// volumeTree is the manifest of a volume, read by a throwaway container that mounts it
// read-only, so it works whether the service runs or not.
func volumeTree(t *testing.T, volume string) string {
	t.Helper()
	return mustDocker(t, "run", "--rm", "--network", "none", "--name", runPrefix+"tree"+randomHex(3),
		"-v", volume+":/v:ro", "--entrypoint", "sh", env.dbImage, "-c", treeScript, "sh", "/v")
}

// serviceState is the state of a service's container: running, exited…
func (p *project) serviceState(t *testing.T, service string) string {
	t.Helper()
	return state(t, p.container(t, service))
}

// rows queries a table's row count and a checksum of its contents.
func (p *project) pgRows(t *testing.T, service string) string {
	t.Helper()
	return strings.TrimSpace(p.exec(t, service, "psql", "-X", "-A", "-t", "-U", "app", "-d", "appdb", "-c",
		"SELECT count(*) || ' ' || md5(coalesce(string_agg(id || ':' || body, ',' ORDER BY id), '')) FROM notes"))
}

func (p *project) mariaRows(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.exec(t, "shop", "sh", "-c", `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot -N -B shop -e `+
		`"SELECT CONCAT(COUNT(*), ' ', MD5(IFNULL(GROUP_CONCAT(CONCAT(id, ':', name) ORDER BY id), ''))) FROM items"`))
}

func (p *project) pgSQL(t *testing.T, service, sql string) {
	t.Helper()
	p.exec(t, service, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "app", "-d", "appdb", "-c", sql)
}

func (p *project) mariaSQL(t *testing.T, sql string) {
	t.Helper()
	p.execInput(t, "shop", sql, "sh", "-c", `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot shop`)
}
