//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestUpMachinesShareRepository backs one project up from two "machines" into one
// repository, next to a snapshot an older version wrote with the project as its host:
// each machine lists and restores its own snapshots and the legacy one, never the
// other's.
func TestUpMachinesShareRepository(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	repo, key := p.localRepo()
	initRepo(t, repo, key)
	p.seedNotes(t, 10, "legacy")
	legacy := p.notes(t)
	write := resticCmd(repo, key, nil, "--no-cache", "backup", "--stdin", "--stdin-filename", "db.sql",
		"--host", p.name, "--tag", "project="+p.name+",service=db,strategy=dump")
	write.stdin = p.exec(t, "db", "sqlite3", notesDB, ".dump")
	if r := write.run(); r.code != 0 {
		t.Fatalf("writing a legacy snapshot: %v", r)
	}

	hostA, hostB := []string{"DOCKER_BACKUP_HOST=machine-a"}, []string{"DOCKER_BACKUP_HOST=machine-b"}
	p.sqlite(t, "UPDATE notes SET body = 'machine-a ' || id; INSERT INTO notes VALUES (100, 'only on a');")
	stateA := p.notes(t)
	if r := p.backupEnv(t, hostA, "up", "db"); r.code != 0 {
		t.Fatalf("%v", r)
	}
	p.sqlite(t, "UPDATE notes SET body = 'machine-b ' || id; DELETE FROM notes WHERE id = 100;")
	if r := p.backupEnv(t, hostB, "up", "db"); r.code != 0 {
		t.Fatalf("%v", r)
	}

	byHost := map[string][]string{}
	for _, s := range snapshots(t, repo, key) {
		byHost[s.Host] = append(byHost[s.Host], s.ID)
	}
	legacyHost, a, b := p.name, p.name+"@machine-a", p.name+"@machine-b"
	if len(byHost) != 3 || len(byHost[legacyHost]) != 1 || len(byHost[a]) != 1 || len(byHost[b]) != 1 {
		t.Fatalf("snapshots by host: %v, want one each of %s, %s and %s", byHost, legacyHost, a, b)
	}
	legacyID, aID, bID := byHost[legacyHost][0], byHost[a][0], byHost[b][0]

	for _, c := range []struct {
		env  []string
		want []string
	}{{hostA, []string{legacyID, aID}}, {hostB, []string{legacyID, bID}}} {
		var got []string
		for _, row := range p.listed(t, c.env...) {
			got = append(got, row.ID)
		}
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: snapshots lists %v, want %v (its own and the legacy one)", c.env[0], got, c.want)
		}
	}

	if r := p.backupEnv(t, hostA, "restore", "db", "--yes"); r.code != 0 {
		t.Fatalf("%v", r)
	}
	if got := p.notes(t); got != stateA {
		t.Errorf("machine-a restored %.60q…, want its own %.60q…", got, stateA)
	}
	if r := p.backupEnv(t, hostB, "restore", "db@"+legacyID[:8], "--yes"); r.code != 0 {
		t.Fatalf("restoring the legacy snapshot: %v", r)
	}
	if got := p.notes(t); got != legacy {
		t.Errorf("the legacy snapshot restored %.60q…, want %.60q…", got, legacy)
	}
	if r := p.backupEnv(t, hostB, "restore", "db@"+aID[:8], "--yes"); r.code != 1 || !strings.Contains(r.stderr, "machine-a") {
		t.Errorf("machine-b restoring machine-a's snapshot: want exit code 1 naming machine-a: %v", r)
	}
	if got := p.notes(t); got != legacy {
		t.Errorf("a refused restore changed the data: %.60q…", got)
	}
	p.checkRunEnded(t)
}
