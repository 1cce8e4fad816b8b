//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestDumpStaysOnTheEngine runs up and restore of a dump with the plugin talking to the
// engine through a proxy that counts the bytes: the dump streams inside its helper on
// the engine's host, so only control traffic and restic's progress cross the client.
func TestDumpStaysOnTheEngine(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run")
	p.seedNotes(t, 10, "note")
	// About 8 MiB of dump that does not compress away in transit.
	p.sqlite(t, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data TEXT); "+
		"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 4000) "+
		"INSERT INTO blobs SELECT i, hex(randomblob(1024)) FROM g;")
	good := p.notes(t)
	const dumpSize = 8 << 20

	// The first up builds the helper image on the engine when this binary has none: the
	// binary itself then goes to the engine, once. Not what is measured here.
	p.mustBackup(t, "up", "db")

	proxy := newByteProxy(t, mainEngineSocket(t))
	total := func() int64 { return proxy.BytesIn() + proxy.BytesOut() }
	via := []string{"DOCKER_HOST=tcp://" + proxy.Addr()}
	// A tcp engine counts as another machine's: its folder repository is named by its
	// absolute path there (the same folder here), with the key the first up generated.
	repo, key := p.localRepo()
	remote := []string{"--repo", repo, "--password-file", key}
	up := p.cmd(append([]string{"docker", "backup", "up", "db"}, remote...))
	up.env = append(up.env, via...)
	if r := up.run(); r.code != 0 {
		t.Fatalf("up through the proxy: %v", r)
	}
	if n := total(); n > dumpSize/8 {
		t.Errorf("up moved %d bytes through the client for a dump of about %d: the dump crossed it", n, dumpSize)
	} else {
		t.Logf("up: %d bytes through the client for a dump of about %d", n, dumpSize)
	}

	p.sqlite(t, "DELETE FROM notes WHERE id > 3; DROP TABLE blobs;")
	before := total()
	restore := p.cmd(append([]string{"docker", "backup", "restore", "db", "--yes"}, remote...))
	restore.env = append(restore.env, via...)
	if r := restore.run(); r.code != 0 {
		t.Fatalf("restore through the proxy: %v", r)
	}
	if n := total() - before; n > dumpSize/8 {
		t.Errorf("restore moved %d bytes through the client for a dump of about %d: the dump crossed it", n, dumpSize)
	} else {
		t.Logf("restore: %d bytes through the client", n)
	}
	if got := p.notes(t); got != good {
		t.Errorf("restore restored %.60q…, want %.60q…", got, good)
	}
	if n := strings.TrimSpace(p.sqlite(t, "SELECT count(*) FROM blobs")); n != "4000" {
		t.Errorf("restore brought back %s blobs, want 4000", n)
	}
	p.checkRunEnded(t)
}
