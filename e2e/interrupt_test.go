//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperWait bounds the waits for a helper to appear or to finish (on a machine busy
// with the tests beside it).
const helperWait = 4 * time.Minute

// startBackup starts `argv…` in the project's folder without waiting for it.
func (p *project) startBackup(t *testing.T, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, env.base...), "COMPOSE_PROJECT_NAME="+p.name)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// waitHelper waits for the container that does a run's work of kind (backup, dump,
// restore) and returns its ID: a helper of that kind, or the run's own host container
// (its anchor) while it runs that restic command as an exec.
func (p *project) waitHelper(t *testing.T, kind string) string {
	t.Helper()
	var id string
	eventually(t, helperWait, "a running "+kind+" helper of "+p.name, func() error {
		id = strings.TrimSpace(mustDocker(t, "ps", "-q", "--filter", "label=io.docker-backup.project="+p.name,
			"--filter", "label=io.docker-backup.kind="+kind))
		if id != "" {
			return nil
		}
		anchor := strings.TrimSpace(mustDocker(t, "ps", "-q", "--filter", "label=io.docker-backup.project="+p.name,
			"--filter", "label=io.docker-backup.kind=run"))
		if anchor != "" {
			if top := (cmdSpec{argv: []string{"docker", "top", anchor, "-o", "pid,args"}}).run(); strings.Contains(top.stdout, "restic "+kind) {
				id = anchor
				return nil
			}
		}
		return errors.New("none yet")
	})
	return id
}

// state is a container's state: running, exited, or "" when it is gone.
func state(t *testing.T, id string) string {
	t.Helper()
	r := cmdSpec{argv: []string{"docker", "inspect", "--format", "{{.State.Status}}", id}}.run()
	if r.code != 0 {
		return ""
	}
	return strings.TrimSpace(r.stdout)
}

func exitCodeOf(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestUpInterrupted(t *testing.T) {
	t.Parallel()
	p := newProject(t, "interrupt")
	// Enough data that the copy is still running when the test interrupts it.
	p.exec(t, "files", "sh", "-c", "head -c 500000000 /dev/urandom > /srv/data/big")
	files := p.container(t, "files")
	plugin := filepath.Join(filepath.Dir(env.dockerConfig), "cli-plugins", "docker-backup")

	t.Run("Ctrl-C through the docker CLI starts the service again", func(t *testing.T) {
		cmd := p.startBackup(t, "docker", "backup", "up", "files")
		p.waitHelper(t, "backup")
		if s := state(t, files); s != "exited" {
			t.Fatalf("files is %q while its copy runs, want exited", s)
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := exitCodeOf(cmd.Wait()); code != 130 {
			t.Errorf("interrupted up: exit code %d, want 130", code)
		}
		if s := state(t, files); s != "running" {
			t.Errorf("files is %q after an interrupted up, want running", s)
		}
		if left := mustDocker(t, "ps", "-aq", "--filter", "label=io.docker-backup.project="+p.name); strings.TrimSpace(left) != "" {
			t.Errorf("helpers left after an interrupted up: %s", left)
		}
	})

	t.Run("after a kill the next run starts the service again", func(t *testing.T) {
		cmd := p.startBackup(t, plugin, "up", "files")
		helper := p.waitHelper(t, "backup")
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		eventually(t, helperWait, "the orphaned helper to finish", func() error {
			if s := state(t, helper); s == "running" {
				return errors.New("still running")
			}
			return nil
		})
		if s := state(t, files); s != "exited" {
			t.Fatalf("files is %q after the plugin was killed, want exited (nothing could start it)", s)
		}
		if r := p.backup(t, "up", "cache"); r.code != 0 {
			t.Fatalf("next up: %v", r)
		}
		if s := state(t, files); s != "running" {
			t.Errorf("files is %q after the next run, want running", s)
		}
		if s := state(t, helper); s != "" {
			t.Errorf("the orphaned helper is still there (%s)", s)
		}
	})

	t.Run("a dump cut short by a kill leaves no snapshot", func(t *testing.T) {
		repo, password := filepath.Join(p.dir, "backups"), filepath.Join(p.dir, "backups.key")
		cmd := p.startBackup(t, plugin, "up", "slow")
		helper := p.waitHelper(t, "dump")
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		eventually(t, helperWait, "the orphaned dump helper to finish", func() error {
			if s := state(t, helper); s == "running" {
				return errors.New("still running")
			}
			return nil
		})
		// The dump streams in its helper, whose held input the engine ended with the
		// plugin: the helper ended the dump in its container and stopped restic before
		// its input ended, so nothing was committed, and nothing runs on.
		if n := len(snapshotsByService(t, repo, password, nil)["slow"]); n != 0 {
			t.Fatalf("%d snapshots of the interrupted dump, want none", n)
		}
		eventually(t, helperWait, "the orphaned dump to be ended in its container", func() error {
			if ps := p.processes(t, "slow"); strings.Contains(ps, "sleep 300") {
				return fmt.Errorf("still running:\n%s", ps)
			}
			return nil
		})
		if r := p.backup(t, "up", "cache"); r.code != 0 {
			t.Fatalf("next up: %v", r)
		}
		if len(snapshotsByService(t, repo, password, nil)["slow"]) != 0 {
			t.Errorf("a snapshot of the interrupted dump appeared after the next run")
		}
	})

	t.Run("secrets stay out of docker inspect and Ctrl-C during a dump keeps no snapshot", func(t *testing.T) {
		repo, password := filepath.Join(p.dir, "backups"), filepath.Join(p.dir, "backups.key")
		key, err := os.ReadFile(password)
		if err != nil {
			t.Fatal(err)
		}
		cmd := p.startBackup(t, "docker", "backup", "-f", "compose.yaml", "-f", "compose.secrets.yaml", "up", "slow")
		helper := p.waitHelper(t, "dump")
		inspect := mustDocker(t, "inspect", helper)
		for _, secret := range []string{strings.TrimSpace(string(key)), "e2e-aws-secret-value", "e2e-b2-secret-value", "e2e-aws-key-id"} {
			if strings.Contains(inspect, secret) {
				t.Errorf("docker inspect of the helper shows a secret (%.6s…)", secret)
			}
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := exitCodeOf(cmd.Wait()); code != 130 {
			t.Errorf("interrupted dump: exit code %d, want 130", code)
		}
		if n := len(snapshotsByService(t, repo, password, nil)["slow"]); n != 0 {
			t.Errorf("%d snapshots of a dump interrupted with Ctrl-C, want none", n)
		}
	})
}
