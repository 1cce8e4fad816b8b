//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copiedSnapshot is a snapshot of `restic snapshots --json` with the source's ID that
// restic copy records.
type copiedSnapshot struct {
	ID       string   `json:"id"`
	Original string   `json:"original"`
	Tags     []string `json:"tags"`
	Paths    []string `json:"paths"`
}

func s3Snapshots(t *testing.T, m *minio, repo, password string) []copiedSnapshot {
	t.Helper()
	r := resticCmd(repo, password, m.Env(), "--no-cache", "snapshots", "--json").run()
	if r.code != 0 {
		t.Fatalf("restic snapshots in %s: %v", repo, r)
	}
	var snaps []copiedSnapshot
	if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil {
		t.Fatalf("reading restic snapshots: %v", err)
	}
	return snaps
}

// TestCopyS3ServedSource runs the agent's copy-served in the helper image as a copy's
// helper runs it, between two MinIO servers with different keys: restic's own REST
// client reads the source through the agent, which alone has the source's keys, while
// restic's environment has the destination's only. The destination is created with
// the source's chunker parameters and holds the chosen snapshots, each recording its
// source's ID, with the same content; the source is left as it was, with no lock.
func TestCopyS3ServedSource(t *testing.T) {
	t.Parallel()
	a, b := startMinio(t), startMinio(t)
	image := makeImage(t)
	srcRepo, dstRepo := a.Repo("src"), b.Repo("dst")
	srcPass, dstPass := passwordFile(t), passwordFile(t)
	if r := resticCmd(srcRepo, srcPass, a.Env(), "init").run(); r.code != 0 {
		t.Fatalf("restic init in MinIO A: %v", r)
	}
	data := t.TempDir()
	for i, content := range []string{"first", "second", "third"} {
		if err := os.WriteFile(filepath.Join(data, "file.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		tag := "keep"
		if i == 1 {
			tag = "unconfirmed"
		}
		if r := resticCmd(srcRepo, srcPass, a.Env(), "--no-cache", "backup", "--tag", tag, data).run(); r.code != 0 {
			t.Fatalf("restic backup in MinIO A: %v", r)
		}
	}
	source := s3Snapshots(t, a, srcRepo, srcPass)
	var chosen []string
	for _, s := range source {
		if !slices.Contains(s.Tags, "unconfirmed") {
			chosen = append(chosen, s.ID)
		}
	}
	if len(source) != 3 || len(chosen) != 2 {
		t.Fatalf("source snapshots %+v", source)
	}

	// The helper's files, as helper.Runner places them (here through a bind mount).
	files := t.TempDir()
	from, _ := json.Marshal(map[string]any{"repository": srcRepo, "env": map[string]string{
		"AWS_ACCESS_KEY_ID": a.AccessKey, "AWS_SECRET_ACCESS_KEY": a.SecretKey}})
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(files, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	readPass := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("from.json", string(from))
	write("from-password", readPass(srcPass))
	write("password", readPass(dstPass))
	write("repository", dstRepo+"\n")
	write("aws-credentials", "[default]\naws_access_key_id = "+b.AccessKey+"\naws_secret_access_key = "+b.SecretKey+"\n")
	run := func(args ...string) result {
		name := runPrefix + "-copy-served-" + randomHex(3)
		argv := []string{"docker", "run", "--rm", "-i", "--init", "--network", "host", "--name", name,
			"-v", files + ":/run/docker-backup:ro", "--tmpfs", "/tmp",
			"-e", "RESTIC_REPOSITORY_FILE=/run/docker-backup/repository",
			"-e", "RESTIC_PASSWORD_FILE=/run/docker-backup/password",
			"-e", "AWS_SHARED_CREDENTIALS_FILE=/run/docker-backup/aws-credentials", "-e", "AWS_PROFILE=default",
			"--entrypoint", "/usr/local/bin/docker-backup", image, "agent", "copy-served"}
		r := runHeldInput(append(append(argv, args[0], "--from-password-file", "/run/docker-backup/from-password", "--no-cache"), args[1:]...))
		t.Logf("copy-served %s: exit code %d", args[0], r.code)
		for _, secret := range []string{a.SecretKey, b.SecretKey} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("an account's secret is in the output of %s", r.cmd)
			}
		}
		return r
	}
	if r := run("init", "--copy-chunker-params"); r.code != 0 {
		t.Fatalf("init from the served source: %v", r)
	}
	if r := run(append([]string{"copy"}, chosen...)...); r.code != 0 {
		t.Fatalf("copy from the served source: %v", r)
	}
	// Again: nothing is copied twice.
	if r := run(append([]string{"copy"}, chosen...)...); r.code != 0 {
		t.Fatalf("second copy from the served source: %v", r)
	}
	copied := s3Snapshots(t, b, dstRepo, dstPass)
	var originals []string
	for _, s := range copied {
		originals = append(originals, s.Original)
	}
	slices.Sort(originals)
	slices.Sort(chosen)
	if !slices.Equal(originals, chosen) {
		t.Fatalf("the copy holds snapshots of %v, want exactly %v", originals, chosen)
	}
	for _, s := range copied {
		r := resticCmd(dstRepo, dstPass, b.Env(), "--no-cache", "dump", s.ID, filepath.Join(data, "file.txt")).run()
		if r.code != 0 || (r.stdout != "first" && r.stdout != "third") {
			t.Errorf("file.txt of copied snapshot %s: %v", s.ID, r)
		}
	}
	if r := resticCmd(dstRepo, dstPass, b.Env(), "--no-cache", "check", "--read-data").run(); r.code != 0 {
		t.Errorf("restic check of the copy: %v", r)
	}
	// The source: its snapshots as they were, its read lock gone.
	if got := s3Snapshots(t, a, srcRepo, srcPass); len(got) != 3 {
		t.Errorf("the source has %d snapshots, want 3", len(got))
	}
	if r := resticCmd(srcRepo, srcPass, a.Env(), "--no-cache", "list", "locks").run(); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("locks left in the source: %v", r)
	}
	// The same chunker parameters: the copy's data is no larger than the source's.
	size := func(m *minio, repo, pass string) int64 {
		r := resticCmd(repo, pass, m.Env(), "--no-cache", "stats", "--json", "--mode", "raw-data").run()
		var st struct {
			TotalSize int64 `json:"total_size"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
			t.Fatalf("restic stats: %v", r)
		}
		return st.TotalSize
	}
	if s, d := size(a, srcRepo, srcPass), size(b, dstRepo, dstPass); d > s+s/10 {
		t.Errorf("the copy's data is %d bytes, the source's %d", d, s)
	}
}

// runHeldInput runs argv with an input held open until it exits, as the plugin holds
// a served copy's helper's input (its end stops the copy).
func runHeldInput(argv []string) result {
	r, w, err := os.Pipe()
	if err != nil {
		return result{cmd: strings.Join(argv, " "), code: -1, stderr: err.Error()}
	}
	defer r.Close()
	defer w.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env.base
	cmd.Stdin = r
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := result{cmd: strings.Join(argv, " "), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		res.code = -1
		res.stderr += err.Error()
	}
	return res
}
