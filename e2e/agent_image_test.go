//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAgentImagePrebuilt builds the helper image with `make image` (on restic-bare, the
// shell-less restic image) and names it with --agent-image: a volumes backup and a
// restore run every helper from that image, as is, and the data comes back.
func TestAgentImagePrebuilt(t *testing.T) {
	t.Parallel()
	image := makeImage(t)

	p := newProject(t, "restore-files")
	p.exec(t, "files", "sh", "-c", "echo one > /srv/uploads/a && mkdir -p /srv/uploads/d && echo two > /srv/uploads/d/b")
	before := volumeTree(t, p.volume(t, "uploads"))
	created := recordContainerEvents(t, "event=create", "label="+labelProject+"="+p.name)
	p.mustBackup(t, "--agent-image", image, "up", "files")
	p.exec(t, "files", "sh", "-c", "rm -rf /srv/uploads/d && echo changed > /srv/uploads/a")
	p.mustBackup(t, "--agent-image", image, "restore", "files", "--yes")
	if got := volumeTree(t, p.volume(t, "uploads")); got != before {
		t.Errorf("restored tree:\n%s\nwant:\n%s", got, before)
	}
	// Every container of ours these commands created ran the named image. They were
	// created before the commands ended: their events are here or on their way.
	var images []string
	eventually(t, 10*time.Second, "the create events of up's and restore's containers", func() error {
		images = nil
		for _, ev := range created.of("", time.Time{}, time.Time{}) {
			images = append(images, ev.image)
		}
		if len(images) < 3 {
			return fmt.Errorf("saw %d containers of ours created (%q), want the anchors and helpers of up and restore", len(images), images)
		}
		return nil
	})
	for _, img := range images {
		if img != image {
			t.Errorf("a container of ours ran %s, want the named %s", img, image)
		}
	}
}

// madeImage is the helper image `make image` built for this run: built once, by the
// first test that needs it, and removed by TestMain (removeMadeImage).
var madeImage struct {
	mu    sync.Mutex
	built bool
	name  string
	err   error
}

// makeImage returns the helper image built with `make image` on restic-bare, the
// shell-less restic image, under a name of this run, building it the first time.
func makeImage(t *testing.T) string {
	t.Helper()
	madeImage.mu.Lock()
	defer madeImage.mu.Unlock()
	if !madeImage.built {
		madeImage.built = true
		name := runPrefix + "-agent"
		make := exec.Command("make", "image", "RESTIC_IMAGE="+env.resticBareImage, "IMAGE="+name, "VERSION=e2e")
		make.Dir = env.root
		make.Env = env.base
		if out, err := make.CombinedOutput(); err != nil {
			madeImage.err = fmt.Errorf("make image: %w\n%s", err, out)
		}
		madeImage.name = name
	}
	if madeImage.err != nil {
		t.Fatal(madeImage.err)
	}
	return madeImage.name + ":dev"
}

// removeMadeImage removes the image makeImage built, if a test had it built.
func removeMadeImage() {
	madeImage.mu.Lock()
	defer madeImage.mu.Unlock()
	if madeImage.name != "" {
		cmdSpec{argv: []string{"docker", "image", "rm", madeImage.name + ":dev", madeImage.name + ":e2e"}}.run()
	}
}

// TestAgentBinaryTheEngineCannotRun gives the plugin a binary for its helper image that
// the engine cannot run (as a Mac's docker-backup would be): up fails with one line that
// says to name a prebuilt image, before anything is stopped or created.
func TestAgentBinaryTheEngineCannotRun(t *testing.T) {
	t.Parallel()
	p := newProject(t, "run-stop")
	script := filepath.Join(t.TempDir(), "docker-backup")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho not a Linux binary\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	up := p.cmd([]string{"docker", "backup", "up"})
	up.env = append(up.env, "DOCKER_BACKUP_AGENT_BINARY="+script)
	r := up.run()
	errLines := lines(r.stderr)
	if r.code != 1 || len(errLines) != 1 || !strings.Contains(errLines[0], "not a Linux binary") || !strings.Contains(errLines[0], "--agent-image") {
		t.Fatalf("want exit code 1 and one line naming --agent-image: %v", r)
	}
	for _, svc := range []string{"slow", "graceful"} {
		if st := p.serviceState(t, svc); st != "running" {
			t.Errorf("service %s is %s after the refused up, want running", svc, st)
		}
	}
	if left := mustDocker(t, "ps", "-aq", "--filter", "label="+labelProject+"="+p.name); strings.TrimSpace(left) != "" {
		t.Errorf("containers of ours left: %s", left)
	}
	if recs := p.stopRecords(t); len(recs) != 0 {
		t.Errorf("stop records %v after a refused up", recs)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "backups.key")); err == nil {
		t.Error("the refused up generated a repository key")
	}
}
