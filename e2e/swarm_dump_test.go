//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// swarmDumpRows rows of 256 hex digits (8 MD5s that share nothing) make a table of
// about 60 MB, and a dump of about 55 MB: enough that 1 % of it is far more than the
// API calls and progress lines that have to cross the client.
const swarmDumpRows = 200_000

// TestSwarmStackDump deploys a stack with PostgreSQL (the postgres preset) pinned to
// worker 1 of a three-node swarm, the database image loaded into worker 1 alone, and
// MinIO listening on the manager's address: `up` through the manager, over a proxy that
// counts the client's bytes, dumps it with a job on worker 1 that execs pg_dumpall in
// the task's container through worker 1's own socket, and its hooks (pre, post,
// on_success) with a job each there. Less than 1 % of the dump's size crosses the
// client each way; the snapshot (the stack's host, worker 1's tag) holds a dump that,
// loaded into a fresh PostgreSQL, gives the table back exactly; the hooks ran in order
// in the task's container; no job's spec ever showed a password, a secret, the dump or
// a hook command; nothing of the run is left on any node. Beside it, broken's dump on
// worker 2 fails half-way: up exits 1 with the dump's one line, and the repository holds
// nothing of it. held, a stop: true volumes service on worker 2, is scaled to 0 for its
// copy there and back, and its snapshot holds exactly its files: the stack of a
// dump on worker 1 and a stop: true service on worker 2, in one `up`. Then both are
// changed, and one `restore` through the manager puts both back exactly: the dump
// streamed into PostgreSQL by a job on worker 1, held's volume swapped on worker 2.
func TestSwarmStackDump(t *testing.T) {
	t.Parallel()
	agentImage := makeImage(t)
	s := startSwarm(t, agentImage, env.resticImage)
	start := time.Now()
	if err := s.Worker1.loadImages(env.dbImage); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s loaded into worker 1 alone in %s", env.dbImage, time.Since(start).Round(time.Millisecond))
	ns := s.name + "-dump"
	m := startMinioIn(t, s.Manager)
	repo := "s3:http://" + m.addr + "/dbe2e/" + ns

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(env.root, "e2e/testdata/swarm-dump"))); err != nil {
		t.Fatal(err)
	}
	password, dbPassword := "pw-"+randomHex(8), "db-"+randomHex(8)
	pwFile := filepath.Join(dir, "restic.pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.initRepo(t, repo, pwFile)
	vars := []string{"DB_IMAGE=" + env.dbImage, "DB_PASSWORD=" + dbPassword, "IMAGE=" + env.resticImage,
		"WORKER1_HOSTNAME=" + s.Worker1.Hostname, "WORKER2_HOSTNAME=" + s.Worker2.Hostname, "REPO=" + repo,
		"AGENT_IMAGE=" + agentImage, "S3_KEY_ID=" + m.accessKey, "S3_SECRET=" + m.secretKey,
		// The nodes' engines have no NAT (--iptables=false): helpers use their node's
		// network, where the manager's address is.
		"DOCKER_BACKUP_NETWORK=host"}
	deploy := s.Cmd("stack", "deploy", "--resolve-image", "never", "--detach", "-c", "compose.yaml", ns)
	deploy.dir, deploy.env = dir, append(deploy.env, vars...)
	if r := deploy.run(); r.code != 0 {
		t.Fatalf("%v", r)
	}
	var db string
	eventually(t, 3*time.Minute, "PostgreSQL to run on worker 1 and accept connections, broken on worker 2", func() error {
		if ids := lines(s.Worker2.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+ns+"_broken")); len(ids) != 1 {
			return fmt.Errorf("%d running containers of broken on worker 2", len(ids))
		}
		ids := lines(s.Worker1.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+ns+"_db"))
		if len(ids) != 1 {
			return fmt.Errorf("%d running containers of db on worker 1", len(ids))
		}
		db = ids[0]
		if r := s.Worker1.Docker(t, "exec", db, "pg_isready", "-q", "-h", "127.0.0.1"); r.code != 0 {
			return fmt.Errorf("not ready: %v", r)
		}
		return nil
	})
	start = time.Now()
	pgSQL(t, s.Worker1, db, "app", "appdb", fmt.Sprintf("CREATE TABLE blobs (id int PRIMARY KEY, body text); "+
		"INSERT INTO blobs SELECT g, (SELECT string_agg(md5(g || ':' || k), '') FROM generate_series(1, 8) k) "+
		"FROM generate_series(1, %d) g;", swarmDumpRows))
	want := pgTableChecksum(t, s.Worker1, db, "app")
	t.Logf("table blobs on worker 1: %d rows, made in %s; checksum %s", swarmDumpRows, time.Since(start).Round(time.Millisecond), want)

	held := stopStack{s: s, svc: ns + "_held"}
	held.waitRunning(t)

	// Every service of ours the manager has while up runs, inspected as the user would;
	// the client reaches the manager through a proxy that counts its bytes.
	minimum := held.watchMinimum()
	watch := watchJobs(t, s)
	e := s.Remote(t)
	e.Proxy.Reset()
	start = time.Now()
	c := e.Cmd("backup", "-p", ns, "up", "--json")
	c.dir, c.env = dir, append(c.env, vars...)
	r := c.run()
	took := time.Since(start)
	specs := watch()
	heldLow := minimum()
	eventually(t, 30*time.Second, "the connections of up through the proxy to close", func() error {
		if n := e.Proxy.Open(); n > 0 {
			return fmt.Errorf("%d still open", n)
		}
		return nil
	})
	in, out := e.Proxy.BytesIn(), e.Proxy.BytesOut()
	t.Logf("up through the manager: exit code %d in %s; %d job spec(s) seen; %d bytes to the manager, %d back", r.code, took.Round(time.Millisecond), len(specs), in, out)
	const brokenLine = "the dump command exited with code 3: the database went away"
	if r.code != 1 || !strings.Contains(r.stdout, brokenLine) {
		t.Fatalf("up: want exit code 1 and broken's %q: %v", brokenLine, r)
	}
	dumpSize := dumpProcessed(t, r.stdout, "db")
	limit := int64(float64(dumpSize) * remoteShare)
	t.Logf("dump of db: %d bytes; the client's bytes: %.3f %% to the manager, %.3f %% back (limit %d bytes each way)",
		dumpSize, 100*float64(in)/float64(dumpSize), 100*float64(out)/float64(dumpSize), limit)
	if dumpSize < 40<<20 {
		t.Fatalf("the dump holds %d bytes, want at least 40 MiB", dumpSize)
	}
	if in >= limit || out >= limit {
		t.Errorf("the client's connection to the manager carried %d bytes in and %d out, want each under 1 %% of the dump's %d", in, out, dumpSize)
	}

	t.Run("the jobs ran on their service's node and never showed a secret", func(t *testing.T) {
		kinds := map[string]int{}
		for _, spec := range specs {
			var inspected []struct {
				Spec struct{ Labels map[string]string }
			}
			if err := json.Unmarshal([]byte(spec), &inspected); err != nil || len(inspected) != 1 {
				t.Fatalf("docker service inspect: %v\n%s", err, spec)
			}
			kind := inspected[0].Spec.Labels["io.docker-backup.kind"]
			kinds[kind]++
			node := s.Worker1
			if svc := inspected[0].Spec.Labels["io.docker-backup.service"]; svc == "broken" || svc == "held" {
				node = s.Worker2
			}
			for _, secret := range []string{password, m.secretKey, dbPassword, "pg_dumpall", "hooks.log"} {
				if strings.Contains(spec, secret) {
					t.Errorf("`docker service inspect` of a job shows %q:\n%s", secret, spec)
				}
			}
			wants := []string{"node.id==" + node.NodeID, `"Condition": "none"`}
			socket := `"Target": "/var/run/docker.sock"`
			if kind == "dump" || kind == "hook" {
				wants = append(wants, socket)
			} else if strings.Contains(spec, socket) {
				// A copy of files needs no engine: only dumps and hooks get the node's socket.
				t.Errorf("a %s job has the node's socket:\n%s", kind, spec)
			}
			for _, want := range wants {
				if !strings.Contains(spec, want) {
					t.Errorf("a job's spec has no %s:\n%s", want, spec)
				}
			}
		}
		if kinds["dump"] != 2 || kinds["hook"] != 3 || len(specs) != 6 {
			t.Errorf("jobs of the run seen on the manager by kind: %v, want 2 dumps (db, broken), 3 hooks and held's copy", kinds)
		}
	})

	t.Run("the hooks ran in the task's container in order", func(t *testing.T) {
		if got := s.Worker1.MustDocker(t, "exec", db, "cat", "/tmp/hooks.log"); got != "pre\npost\non_success\n" {
			t.Errorf("db's hooks log holds %q, want pre, post, on_success", got)
		}
	})

	t.Run("the snapshot holds a dump that restores the table exactly", func(t *testing.T) {
		var snaps []struct {
			ID       string   `json:"short_id"`
			Hostname string   `json:"hostname"`
			Tags     []string `json:"tags"`
		}
		outJSON := m.resticOut(t, repo, pwFile, "snapshots", "--json", "--tag", "service=db")
		if err := json.Unmarshal([]byte(outJSON), &snaps); err != nil || len(snaps) != 1 {
			t.Fatalf("snapshots: %v\n%s", err, outJSON)
		}
		snap := snaps[0]
		if !strings.HasPrefix(snap.Hostname, ns+"@swarm-") || !slices.Contains(snap.Tags, "node="+s.Worker1.Hostname) {
			t.Errorf("snapshot's host %q, tags %q: want %s@swarm-… and node=%s", snap.Hostname, snap.Tags, ns, s.Worker1.Hostname)
		}
		files := snapshotFiles(t, m, repo, pwFile, snap.ID)
		if len(files) != 1 {
			t.Fatalf("the snapshot holds %q, want one dump file", files)
		}
		fresh := strings.TrimSpace(s.Worker1.MustDocker(t, "run", "-d", "-e", "POSTGRES_PASSWORD=fresh-"+randomHex(4), env.dbImage, "postgres"))
		eventually(t, 2*time.Minute, "a fresh PostgreSQL to accept connections", func() error {
			if r := s.Worker1.Docker(t, "exec", fresh, "pg_isready", "-q", "-h", "127.0.0.1"); r.code != 0 {
				return fmt.Errorf("not ready: %v", r)
			}
			return nil
		})
		start := time.Now()
		restic := m.restic(repo, pwFile, "dump", snap.ID, files[0])
		dump := exec.Command(restic.argv[0], restic.argv[1:]...)
		dump.Env = append(append([]string{}, env.base...), restic.env...)
		load := exec.Command("docker", "-H", s.Worker1.Host(), "exec", "-i", fresh, "psql", "-X", "-q", "-U", "postgres", "-d", "postgres")
		load.Env = env.base
		pipe, err := dump.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var dumpErr, loadOut bytes.Buffer
		dump.Stderr, load.Stdin, load.Stdout, load.Stderr = &dumpErr, pipe, &loadOut, &loadOut
		if err := dump.Start(); err != nil {
			t.Fatal(err)
		}
		loadErr := load.Run()
		if err := dump.Wait(); err != nil || loadErr != nil {
			t.Fatalf("restic dump | psql: %v, %v\n%s\n%s", err, loadErr, dumpErr.String(), tail(loadOut.String(), 2000))
		}
		got := pgTableChecksum(t, s.Worker1, fresh, "postgres")
		t.Logf("the dump loaded into a fresh PostgreSQL in %s: table blobs %s", time.Since(start).Round(time.Millisecond), got)
		if got != want {
			t.Errorf("table blobs restored from the snapshot: %s, want %s", got, want)
		}
	})

	t.Run("held was scaled to 0 for its copy on worker 2 and back, its files exact", func(t *testing.T) {
		if heldLow != 0 {
			t.Errorf("held's replicas never went below %d during up", heldLow)
		}
		held.checkBack(t)
		var snaps []struct {
			ID   string   `json:"short_id"`
			Tags []string `json:"tags"`
		}
		outJSON := m.resticOut(t, repo, pwFile, "snapshots", "--json", "--tag", "service=held")
		if err := json.Unmarshal([]byte(outJSON), &snaps); err != nil || len(snaps) != 1 {
			t.Fatalf("snapshots of held: %v\n%s", err, outJSON)
		}
		if !slices.Contains(snaps[0].Tags, "node="+s.Worker2.Hostname) {
			t.Errorf("held's snapshot tags %q: want node=%s", snaps[0].Tags, s.Worker2.Hostname)
		}
		files := snapshotFiles(t, m, repo, pwFile, snaps[0].ID)
		if len(files) != 3 || !strings.HasSuffix(files[0], "/a") || !strings.HasSuffix(files[1], "/d/b") || !strings.HasSuffix(files[2], "/ready") {
			t.Fatalf("held's snapshot holds %q, want a, d/b and ready", files)
		}
		for file, want := range map[string]string{files[0]: "one\n", files[1]: "two\n"} {
			if got := m.resticOut(t, repo, pwFile, "dump", snaps[0].ID, file); got != want {
				t.Errorf("%s holds %q, want %q", file, got, want)
			}
		}
	})

	t.Run("restore through the manager puts both back exactly, each on its node", func(t *testing.T) {
		pgSQL(t, s.Worker1, db, "app", "appdb", "DELETE FROM blobs WHERE id % 3 = 0; UPDATE blobs SET body = 'changed' WHERE id % 5 = 0;")
		if got := pgTableChecksum(t, s.Worker1, db, "app"); got == want {
			t.Fatalf("the table did not change: %s", got)
		}
		ids := lines(s.Worker2.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+held.svc))
		if len(ids) != 1 {
			t.Fatalf("%d running containers of held on worker 2", len(ids))
		}
		s.Worker2.MustDocker(t, "exec", ids[0], "/bin/sh", "-c", "echo changed > /srv/held/a && /bin/busybox rm /srv/held/d/b && echo new > /srv/held/c")
		start := time.Now()
		c := e.Cmd("backup", "-p", ns, "restore", "--yes", "db", "held")
		c.dir, c.env = dir, append(c.env, vars...)
		if r := c.run(); r.code != 0 {
			t.Fatalf("restore: %v", r)
		}
		t.Logf("restore of db and held through the manager: %s", time.Since(start).Round(time.Millisecond))
		if got := pgTableChecksum(t, s.Worker1, db, "app"); got != want {
			t.Errorf("table blobs after restore: %s, want %s", got, want)
		}
		held.checkBack(t)
		ids = lines(s.Worker2.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+held.svc))
		if len(ids) != 1 {
			t.Fatalf("%d running containers of held on worker 2 after restore", len(ids))
		}
		got := s.Worker2.MustDocker(t, "exec", ids[0], "/bin/sh", "-c", "cd /srv/held && /bin/busybox find . -type f | /bin/busybox sort && cat a d/b")
		if got != "./a\n./d/b\n./ready\none\ntwo\n" {
			t.Errorf("held's volume on worker 2 after restore:\n%s\nwant a, d/b, ready holding one, two", got)
		}
	})

	t.Run("nothing of the run is left on any node", func(t *testing.T) {
		checkNothingLeft(t, s, ns)
	})
}

// loadImages loads images into this node alone (a big image that one node's service
// needs), from the file savedImages keeps for the run.
func (n *swarmNode) loadImages(images ...string) error {
	path, err := savedImages(images)
	if err != nil {
		return err
	}
	return n.loadFile(path)
}

// initRepo runs restic init on repo in MinIO, retried while MinIO's object layer is
// not up yet: its health answers ready a moment before, and restic init says "Server
// not initialized yet" meanwhile.
func (m *minioIn) initRepo(t *testing.T, repo, passwordFile string) {
	t.Helper()
	eventually(t, time.Minute, "restic init on MinIO", func() error {
		r := m.restic(repo, passwordFile, "init").run()
		switch {
		case r.code == 0:
			return nil
		case strings.Contains(r.stderr, "Server not initialized yet"):
			return fmt.Errorf("%v", r)
		}
		t.Fatalf("%v", r)
		return nil
	})
}

// pgSQL runs SQL as user in database of the PostgreSQL container id on node, and
// returns its output.
func pgSQL(t *testing.T, n *swarmNode, id, user, database, sql string) string {
	t.Helper()
	return n.MustDocker(t, "exec", id, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database, "-c", sql)
}

// pgTableChecksum is table blobs' row count, total length and an MD5 over every row in
// order, in database appdb of the container id on node.
func pgTableChecksum(t *testing.T, n *swarmNode, id, user string) string {
	t.Helper()
	return strings.TrimSpace(pgSQL(t, n, id, user, "appdb", "SELECT count(*) || ' ' || coalesce(sum(length(body)), 0) || ' ' || "+
		"md5(coalesce(string_agg(md5(id || ':' || body), '' ORDER BY id), '')) FROM blobs"))
}

// dumpProcessed reads `up --json` and returns what restic read for the service, which
// must have ended ok (total_bytes_processed of its closing event): for a dump, its size.
func dumpProcessed(t *testing.T, stdout, service string) int64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Event, Service, Status, Error string
			Summary                       *struct {
				TotalBytesProcessed int64 `json:"total_bytes_processed"`
			}
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Service != service || (ev.Event != "done" && ev.Event != "error") {
			continue
		}
		if ev.Status != "ok" || ev.Summary == nil {
			t.Fatalf("up: service %s ended %q (%s) with summary %v", service, ev.Status, ev.Error, ev.Summary)
		}
		return ev.Summary.TotalBytesProcessed
	}
	t.Fatalf("up --json has no closing event of service %s:\n%s", service, stdout)
	return 0
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
