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
	"syscall"
	"testing"
	"time"
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

// TestCopyS3TwoAccounts is a project whose primary repository is in one MinIO and whose
// copy "offsite" is in another with other keys: `init` creates both (the copy with the
// primary's chunker parameters), `up`, `copy`, `up` again, `copy` again: the copy
// holds exactly the primary's confirmed snapshots, each once, with their content, and
// neither account's secret shows in the output or in `docker inspect` of any of the
// run's containers (caught while they run). A copy killed with kill -9 mid-way leaves
// no lock on either side (the primary's read lock goes through the agent's server) and
// the next one resumes with nothing duplicated.
func TestCopyS3TwoAccounts(t *testing.T) {
	t.Parallel()
	a, b := startMinio(t), startMinio(t)
	p := newProject(t, "copy-s3")
	srcRepo, dstRepo := a.Repo(p.name), b.Repo(p.name+"-offsite")
	srcPass, dstPass := passwordFile(t), passwordFile(t)
	vars := []string{
		"COMPOSE_PROJECT_NAME=" + p.name, "DOCKER_BACKUP_NETWORK=host",
		"E2E_A_REPOSITORY=" + srcRepo, "E2E_A_PASSWORD_FILE=" + srcPass,
		"E2E_A_ACCESS_KEY=" + a.AccessKey, "E2E_A_SECRET_KEY=" + a.SecretKey,
		"E2E_B_REPOSITORY=" + dstRepo, "E2E_B_PASSWORD_FILE=" + dstPass,
		"E2E_B_ACCESS_KEY=" + b.AccessKey, "E2E_B_SECRET_KEY=" + b.SecretKey,
	}
	secrets := []string{a.SecretKey, b.SecretKey}
	var inspected []string
	backup := func(args ...string) result {
		t.Helper()
		argv := append([]string{"docker", "backup"}, args...)
		r, seen := runInspecting(t, cmdSpec{argv: argv, dir: p.dir, env: vars}, p.name)
		inspected = append(inspected, seen...)
		t.Logf("%s: exit code %d", r.cmd, r.code)
		for _, s := range secrets {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Errorf("an account's secret is in the output of %s", r.cmd)
			}
		}
		return r
	}
	if r := backup("init"); r.code != 0 {
		t.Fatalf("init: %v", r)
	}
	write := func(content string) {
		p.exec(t, "files", "sh", "-c", "mkdir -p /srv/uploads && printf %s '"+content+"' > /srv/uploads/note.txt")
	}
	for round, content := range []string{"first", "second"} {
		write(content)
		if r := backup("up"); r.code != 0 {
			t.Fatalf("up %d: %v", round+1, r)
		}
		if r := backup("copy"); r.code != 0 {
			t.Fatalf("copy %d: %v", round+1, r)
		}
		source := s3Snapshots(t, a, srcRepo, srcPass)
		copied := s3Snapshots(t, b, dstRepo, dstPass)
		var want, got []string
		for _, s := range source {
			if !slices.Contains(s.Tags, "unconfirmed") {
				want = append(want, s.ID)
			}
		}
		for _, s := range copied {
			got = append(got, s.Original)
		}
		slices.Sort(want)
		slices.Sort(got)
		if len(want) != round+1 || !slices.Equal(got, want) {
			t.Fatalf("after copy %d the copy holds snapshots of %v, want exactly the confirmed %v", round+1, got, want)
		}
	}
	copied := s3Snapshots(t, b, dstRepo, dstPass)
	var contents []string
	for _, s := range copied {
		if len(s.Paths) != 1 {
			t.Fatalf("copied snapshot %s has paths %v", s.ID, s.Paths)
		}
		r := resticCmd(dstRepo, dstPass, b.Env(), "--no-cache", "dump", s.ID, s.Paths[0]+"/note.txt").run()
		if r.code != 0 {
			t.Fatalf("note.txt of copied snapshot %s: %v", s.ID, r)
		}
		contents = append(contents, r.stdout)
	}
	slices.Sort(contents)
	if !slices.Equal(contents, []string{"first", "second"}) {
		t.Errorf("the copied snapshots hold %q, want first and second", contents)
	}
	if r := resticCmd(srcRepo, srcPass, a.Env(), "--no-cache", "list", "locks").run(); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("locks left in the primary: %v", r)
	}
	if r := resticCmd(dstRepo, dstPass, b.Env(), "--no-cache", "list", "locks").run(); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("locks left in the copy: %v", r)
	}
	// A served copy killed with kill -9 mid-way: the agent stops restic, which removes
	// its locks, the primary's read lock through the agent's server among them; the
	// next copy resumes with nothing duplicated.
	p.exec(t, "files", "sh", "-c", "head -c 200000000 /dev/urandom > /srv/uploads/big")
	if r := backup("up"); r.code != 0 {
		t.Fatalf("up with big data: %v", r)
	}
	locks := func(m *minio, repo, pass string) string {
		r := resticCmd(repo, pass, m.Env(), "--no-cache", "list", "locks").run()
		if r.code != 0 {
			t.Fatalf("restic list locks: %v", r)
		}
		return strings.TrimSpace(r.stdout)
	}
	plugin := filepath.Join(filepath.Dir(env.dockerConfig), "cli-plugins", "docker-backup")
	s := p.start(t, vars, plugin, "copy")
	helper := p.waitHelper(t, "copy")
	eventually(t, helperWait, "the copy's lock in the copy repository", func() error {
		if locks(b, dstRepo, dstPass) == "" {
			return errors.New("no lock yet")
		}
		return nil
	})
	if r := (cmdSpec{argv: []string{"docker", "inspect", helper}}).run(); r.code == 0 {
		inspected = append(inspected, r.stdout)
	}
	s.signal(t, syscall.SIGKILL)
	s.wait(t, helperWait)
	eventually(t, helperWait, "the killed copy's helper to end", func() error {
		if state(t, helper) == "running" {
			return errors.New("still running")
		}
		return nil
	})
	if l := locks(b, dstRepo, dstPass); l != "" {
		t.Errorf("locks left in the copy repository after the kill: %q", l)
	}
	if l := locks(a, srcRepo, srcPass); l != "" {
		t.Errorf("locks left in the primary repository after the kill: %q", l)
	}
	if n := len(s3Snapshots(t, b, dstRepo, dstPass)); n != 2 {
		t.Errorf("the copy holds %d snapshots after the kill, want the 2 copied before", n)
	}
	if r := backup("copy"); r.code != 0 {
		t.Fatalf("copy after the kill: %v", r)
	}
	var want, got []string
	for _, s := range s3Snapshots(t, a, srcRepo, srcPass) {
		if !slices.Contains(s.Tags, "unconfirmed") {
			want = append(want, s.ID)
		}
	}
	for _, s := range s3Snapshots(t, b, dstRepo, dstPass) {
		got = append(got, s.Original)
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) != 3 || !slices.Equal(got, want) {
		t.Errorf("after the resumed copy the copy holds snapshots of %v, want exactly the confirmed %v", got, want)
	}
	if l := locks(b, dstRepo, dstPass) + locks(a, srcRepo, srcPass); l != "" {
		t.Errorf("locks left after the resumed copy: %q", l)
	}

	// The copy ran in a helper whose agent served the primary (restic alone would
	// have read both with one set of keys).
	copyHelpers := 0
	for _, js := range inspected {
		if strings.Contains(js, `"io.docker-backup.kind": "copy"`) {
			copyHelpers++
			if !strings.Contains(js, `"copy-served"`) {
				t.Errorf("a copy helper without the agent's copy-served: %s", js)
			}
		}
	}
	if copyHelpers == 0 {
		t.Errorf("no copy helper was caught running to be inspected (%d containers inspected)", len(inspected))
	}
	for _, js := range inspected {
		for _, s := range append(secrets, a.AccessKey, b.AccessKey) {
			if strings.Contains(js, s) {
				t.Errorf("an account's key is in `docker inspect` of one of the run's containers")
			}
		}
	}
}

// runInspecting runs c and, while it runs, `docker inspect`s every container of the
// project's runs (labelled with the project) it finds, once each; it returns the
// result and what inspect showed.
func runInspecting(t *testing.T, c cmdSpec, project string) (result, []string) {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- c.run() }()
	seen := map[string]bool{}
	var out []string
	for {
		select {
		case r := <-done:
			return r, out
		default:
		}
		ps := cmdSpec{argv: []string{"docker", "ps", "-q", "--filter", "label=io.docker-backup.project=" + project}}.run()
		for _, id := range strings.Fields(ps.stdout) {
			if seen[id] {
				continue
			}
			if r := (cmdSpec{argv: []string{"docker", "inspect", id}}).run(); r.code == 0 {
				seen[id] = true
				out = append(out, r.stdout)
			}
		}
		select {
		case r := <-done:
			return r, out
		case <-time.After(50 * time.Millisecond):
		}
	}
}
