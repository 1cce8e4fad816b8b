package helper

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/restic"
)

// A copy runner's copy helper gets the source repository as files and, for a folder, a
// mount; restic runs held; nothing secret shows in argv, environment or labels; its
// other helpers do not get the source.
func TestCopyRunnerGivesTheSourceAsFiles(t *testing.T) {
	src := &Runner{Image: "agent:1", Project: "shop", RunID: "run1", Network: "host", Repo: Repo{
		URL: "/srv/backups/shop", Local: true, Password: []byte("primary-pw"),
	}}
	dst, err := src.CopyRunner(Repo{URL: "s3:http://minio:9000/copy", Password: []byte("copy-pw"),
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "copy-key-id", "AWS_SECRET_ACCESS_KEY": "copy-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	spec := dst.helperSpec(restic.Invocation{Args: []string{"copy", "--from-repository-file", fromRepositoryFile}, Kind: restic.KindCopy, Held: true})
	visible := strings.Join(append(append(slices.Clone(spec.Cmd), spec.Env...), spec.Entrypoint...), " ")
	for k, v := range spec.Labels {
		visible += " " + k + "=" + v
	}
	for _, secret := range []string{"primary-pw", "copy-pw", "copy-key-id", "copy-secret"} {
		if strings.Contains(visible, secret) {
			t.Errorf("secret %q is visible: %s", secret, visible)
		}
	}
	files := map[string]string{}
	for _, f := range spec.Files {
		files[f.Path] = string(f.Data)
	}
	if files[fromRepositoryFile] != fromLocalPath+"\n" || files[fromPasswordFile] != "primary-pw" || files[passwordFile] != "copy-pw" ||
		files[repositoryFile] != "s3:http://minio:9000/copy\n" || !strings.Contains(files[awsCredentialsDir], "copy-secret") {
		t.Errorf("files %q", files)
	}
	if !slices.ContainsFunc(spec.Mounts, func(m mount.Mount) bool {
		return m.Source == "/srv/backups/shop" && m.Target == fromLocalPath && !m.ReadOnly
	}) {
		t.Errorf("the source folder is not mounted writable (restic's read lock) at %s: %+v", fromLocalPath, spec.Mounts)
	}
	if !slices.Equal(spec.Entrypoint, HeldResticEntrypoint) || !spec.HoldStdin {
		t.Errorf("entrypoint %q, hold stdin %t: restic is not held", spec.Entrypoint, spec.HoldStdin)
	}
	if spec.Labels[LabelRun] != "run1" || spec.Labels[LabelRepository] != dst.Repo.ID() || spec.NetworkMode != "host" {
		t.Errorf("labels %v, network %q", spec.Labels, spec.NetworkMode)
	}
	other := dst.helperSpec(restic.Invocation{Args: []string{"snapshots"}, Kind: "snapshots"})
	for _, f := range other.Files {
		if f.Path == fromPasswordFile {
			t.Error("a snapshots helper of the copy gets the source's password")
		}
	}
	if slices.Equal(other.Entrypoint, HeldResticEntrypoint) || other.HoldStdin {
		t.Error("an invocation that is not held runs held")
	}
}

// restic reads one backend environment for both repositories: both settings are given,
// and one set differently on each side is refused, naming the variable only.
func TestCopyRunnerEnvironment(t *testing.T) {
	src := &Runner{Repo: Repo{URL: "s3:http://a/b", Env: map[string]string{"AWS_ACCESS_KEY_ID": "primary-id", "AWS_DEFAULT_REGION": "eu"}}}
	dst, err := src.CopyRunner(Repo{URL: "/srv/copy", Local: true, Env: map[string]string{"AWS_DEFAULT_REGION": "eu"}})
	if err != nil {
		t.Fatal(err)
	}
	if dst.Repo.Env["AWS_ACCESS_KEY_ID"] != "primary-id" || src.Repo.Env["AWS_ACCESS_KEY_ID"] != "primary-id" {
		t.Errorf("env %v", dst.Repo.Env)
	}
	// A folder copy of a remote primary needs the network to read the source.
	if got := dst.helperSpec(restic.Invocation{Args: []string{"copy"}, Kind: restic.KindCopy}).NetworkMode; got != "" {
		t.Errorf("network %q for a folder copy of an S3 primary, want the default", got)
	}
	// (Two s3: repositories with different keys are served instead: copyfrom_test.go.)
	_, err = src.CopyRunner(Repo{URL: "b2:c:d", Env: map[string]string{"AWS_ACCESS_KEY_ID": "copy-id"}})
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") || strings.Contains(err.Error(), "copy-id") || strings.Contains(err.Error(), "primary-id") {
		t.Errorf("conflicting settings: %v", err)
	}
}
