//go:build e2e

package e2e

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The CI example (examples/ci-deploy.sh) run for real: the script with the environment
// every e2e command gets (the tests' DOCKER_CONFIG, so `docker backup` is the plugin
// under test), on a project of e2e/testdata/ci-deploy/ that runs release 1 of app.

// dataFile is what app keeps in its volume (appdata at /data).
const dataFile = "/data/version"

// ciDeploy runs the example script in the project's folder with project flags and
// extra environment; the events of `up --json` are kept in a file, returned with the
// result ("" when the script never wrote it).
func (p *project) ciDeploy(t *testing.T, extraEnv []string, flags ...string) (result, string) {
	t.Helper()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	c := p.cmd(append([]string{filepath.Join(env.root, "examples/ci-deploy.sh")}, flags...))
	c.env = append(append(c.env, "BACKUP_EVENTS="+events), extraEnv...)
	r := c.run()
	t.Logf("%s %s: exit code %d\nstderr:\n%s", strings.Join(extraEnv, " "), r.cmd, r.code, r.stderr)
	b, err := os.ReadFile(events)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return r, string(b)
}

// newCIProject brings up the ci-deploy scenario at release 1 with "v1" in app's volume.
func newCIProject(t *testing.T) *project {
	t.Helper()
	p := newProject(t, "ci-deploy")
	p.exec(t, "app", "sh", "-c", "echo v1 > "+dataFile)
	return p
}

// release is the APP_RELEASE of app's container: which compose file deployed it.
func (p *project) release(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.exec(t, "app", "printenv", "APP_RELEASE"))
}

// composeEnv names the machine's compose tool for the script.
func composeEnv() string { return "COMPOSE=" + strings.Join(env.compose, " ") }

// appSnapshot checks that up's events name one snapshot of app, that `docker backup
// snapshots` lists it, and returns its ID.
func (p *project) appSnapshot(t *testing.T, events string) string {
	t.Helper()
	done := doneEvents(t, events)["app"]
	if done.Status != "ok" || done.Summary == nil || done.Summary.SnapshotID == "" {
		t.Fatalf("up's events: app ended %+v, want ok with a snapshot:\n%s", done, events)
	}
	id := done.Summary.SnapshotID
	rows := p.listed(t)
	if len(rows) != 1 || rows[0].ID != id || rows[0].Service != "app" {
		t.Fatalf("docker backup snapshots: %+v, want only app's %s", rows, id)
	}
	return id
}

// snapshotData is app's data file as a snapshot holds it, read with plain restic.
func (p *project) snapshotData(t *testing.T, id string) string {
	t.Helper()
	repo, key := p.localRepo()
	r := resticCmd(repo, key, nil, "--no-cache", "dump", id, "/backup/app/appdata/version").run()
	if r.code != 0 {
		t.Fatalf("reading the snapshot: %v", r)
	}
	return r.stdout
}

func TestCIExampleRefusesBeforeDeploying(t *testing.T) {
	t.Parallel()
	p := newCIProject(t)
	app := p.container(t, "app")

	for _, tc := range []struct {
		name, overlay string
		code          int
		stderr        string
	}{
		{"a stateful service with no backup decision", "compose.stateful.yaml", 1, "worker"},
		{"a bad x-backup", "compose.bad-x-backup.yaml", 2, "services.app.x-backup.strategy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, events := p.ciDeploy(t, []string{composeEnv()}, "-f", "compose.yaml", "-f", tc.overlay)
			if r.code != tc.code {
				t.Fatalf("want exit code %d from the plan step: %v", tc.code, r)
			}
			if !strings.Contains(r.stderr, tc.stderr) || !strings.Contains(r.stderr, "nothing was deployed") {
				t.Errorf("stderr does not name %q and say nothing was deployed: %v", tc.stderr, r)
			}
			if events != "" || r.stdout != "" {
				t.Errorf("up ran: events %q, stdout %q", events, r.stdout)
			}
			cs := p.containers(t)
			if _, ok := cs["worker"]; ok {
				t.Errorf("the new service worker has a container: the deploy ran")
			}
			if cs["app"] != app || p.release(t) != "1" {
				t.Errorf("app was recreated (container %s, was %s) or is not release 1 any more", cs["app"], app)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(p.dir, "backups")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the repository exists (%v): no backup may run before a refused deploy", err)
	}
}

func TestCIExampleFailedBackupDeploysNothing(t *testing.T) {
	t.Parallel()
	p := newCIProject(t)
	app := p.container(t, "app")
	r, events := p.ciDeploy(t, []string{composeEnv(), "MIGRATE=touch migrated"}, "-f", "compose.yaml", "-f", "compose.failing-backup.yaml")
	if r.code != 1 {
		t.Fatalf("want exit code 1 from the backup step: %v", r)
	}
	if done := doneEvents(t, events)["app"]; done.Event != "error" || done.Status != "failed" {
		t.Errorf("up's events: app ended %+v, want an error event with status failed:\n%s", done, events)
	}
	if r.stdout != events || !strings.Contains(r.stderr, "the backup failed (exit 1): nothing was deployed") {
		t.Errorf("want the events on stdout and the failure on stderr: %v", r)
	}
	if cs := p.containers(t); cs["app"] != app || p.release(t) != "1" {
		t.Errorf("app was recreated (container %s, was %s) or is not release 1 any more", cs["app"], app)
	}
	if rows := p.listed(t); len(rows) != 0 {
		t.Errorf("snapshots after a failed backup: %+v, want none", rows)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "migrated")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the migration ran after a failed backup (%v)", err)
	}
}

func TestCIExampleBacksUpThenDeploysAndMigrates(t *testing.T) {
	t.Parallel()
	p := newCIProject(t)
	// No COMPOSE: the script finds the machine's compose tool itself.
	migrate := `$COMPOSE "$@" exec -T app sh -c 'test "$APP_RELEASE" = 2 && echo v2 > ` + dataFile + `'`
	r, events := p.ciDeploy(t, []string{"MIGRATE=" + migrate}, "-f", "compose.yaml", "-f", "compose.release2.yaml")
	if r.code != 0 {
		t.Fatalf("the deploy job failed: %v", r)
	}
	if want := "ci-deploy: " + strings.Join(env.compose, " ") + " -f compose.yaml -f compose.release2.yaml up -d"; !strings.Contains(r.stderr, want) {
		t.Errorf("the script did not deploy with %q: %v", want, r)
	}
	if r.stdout != events {
		t.Errorf("stdout (the job log) is not up's events:\nstdout:\n%s\nevents:\n%s", r.stdout, events)
	}
	id := p.appSnapshot(t, events)
	if got := p.snapshotData(t, id); got != "v1\n" {
		t.Errorf("the snapshot holds %q, want the data from before the migration, %q", got, "v1\n")
	}
	if got := p.release(t); got != "2" {
		t.Errorf("app runs release %s after the deploy, want 2", got)
	}
	if got := p.exec(t, "app", "cat", dataFile); got != "v2\n" {
		t.Errorf("the data after the migration is %q, want %q", got, "v2\n")
	}
}

func TestCIExampleFailedMigrationNamesTheSnapshot(t *testing.T) {
	t.Parallel()
	p := newCIProject(t)
	migrate := `$COMPOSE "$@" exec -T app sh -c 'echo half-migrated > ` + dataFile + `; exit 3'`
	flags := []string{"-f", "compose.yaml", "-f", "compose.release2.yaml"}
	r, events := p.ciDeploy(t, []string{composeEnv(), "MIGRATE=" + migrate}, flags...)
	if r.code != 3 {
		t.Fatalf("want the migration's exit code 3: %v", r)
	}
	id := p.appSnapshot(t, events)
	restore := regexp.MustCompile(`(?m)^ci-deploy:   (docker backup .* restore .*)$`).FindStringSubmatch(r.stderr)
	want := "docker backup -f compose.yaml -f compose.release2.yaml restore app@" + id[:8]
	if restore == nil || restore[1] != want {
		t.Fatalf("the script does not print %q: %v", want, r)
	}
	if got := p.release(t); got != "2" {
		t.Errorf("app runs release %s, want 2: the deploy ran before the migration", got)
	}

	// The command as printed brings the data back (--yes: no terminal to answer on).
	argv := append(strings.Fields(restore[1]), "--yes")
	if rr := p.cmd(argv).run(); rr.code != 0 {
		t.Fatalf("the printed restore: %v", rr)
	}
	if got := p.exec(t, "app", "cat", dataFile); got != "v1\n" {
		t.Errorf("the data after the printed restore is %q, want %q", got, "v1\n")
	}
}
