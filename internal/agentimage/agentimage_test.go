package agentimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

func TestResolveUsesAPrebuiltImageAsIs(t *testing.T) {
	e := enginetest.New(t)
	got, err := Resolve(context.Background(), e, "linux", "x86_64", Options{ResticImage: "restic/restic:0.18.1", AgentImage: "docker-backup:1.2", Executable: "/nonexistent"})
	if err != nil || got != "docker-backup:1.2" {
		t.Fatalf("Resolve = %q, %v; want the named image", got, err)
	}
	if len(e.Builds()) != 0 {
		t.Errorf("built %v, want nothing built", e.Builds())
	}
}

func TestResolveBuildsOnceOnTheResticImage(t *testing.T) {
	exe := staticBinary(t)
	e := enginetest.New(t)
	e.AddImage("restic/restic:0.18.1", "sha256:r1")
	var progress []string
	o := Options{ResticImage: "restic/restic:0.18.1", Version: "v1.0", Executable: exe, Progress: func(s string) { progress = append(progress, s) }}
	tag, err := Resolve(context.Background(), e, "linux", elfArch(t, exe), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tag, Repository+":v1.0-") || !e.HasImage(tag) {
		t.Fatalf("tag %q (on the engine: %v)", tag, e.HasImage(tag))
	}
	builds := e.Builds()
	if len(builds) != 1 || builds[0].BuildArgs["RESTIC_IMAGE"] != "restic/restic:0.18.1" || len(progress) != 1 {
		t.Fatalf("builds %+v, progress %q: want one build on the restic image, one line", builds, progress)
	}
	files := tarFiles(t, builds[0].Context)
	bin, _ := os.ReadFile(exe)
	if !bytes.Equal(files["docker-backup"], bin) || !strings.Contains(string(files["Dockerfile"]), "COPY docker-backup "+Binary) {
		t.Errorf("build context holds %d bytes of binary and Dockerfile %q", len(files["docker-backup"]), files["Dockerfile"])
	}
	again, err := Resolve(context.Background(), e, "linux", elfArch(t, exe), o)
	if err != nil || again != tag || len(e.Builds()) != 1 {
		t.Errorf("second Resolve = %q, %v after %d builds; want the cached %q", again, err, len(e.Builds()), tag)
	}
	// Another restic image (same name, new ID) is another helper image; the one this
	// version built before goes.
	e.AddImage("restic/restic:0.18.1", "sha256:r2")
	other, err := Resolve(context.Background(), e, "linux", elfArch(t, exe), o)
	if err != nil || other == tag || !e.HasImage(other) {
		t.Fatalf("a new restic image: %q, %v (the old tag %q)", other, err, tag)
	}
	if e.HasImage(tag) {
		t.Errorf("the image %s of the same version was left", tag)
	}
}

func TestResolveRefusesABinaryTheEngineCannotRun(t *testing.T) {
	exe := staticBinary(t)
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := "aarch64"
	if elfArch(t, exe) == "aarch64" {
		other = "x86_64"
	}
	for name, tc := range map[string]struct{ exe, os, arch, want string }{
		"another architecture": {exe, "linux", other, "built for"},
		"not a Linux binary":   {script, "linux", "x86_64", "not a Linux binary"},
		"Windows containers":   {exe, "windows", "x86_64", "does not run Linux containers"},
	} {
		t.Run(name, func(t *testing.T) {
			e := enginetest.New(t)
			_, err := Resolve(context.Background(), e, tc.os, tc.arch, Options{ResticImage: "restic/restic:0.18.1", Executable: tc.exe})
			if !errors.Is(err, ErrNoBinary) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--agent-image") {
				t.Errorf("err = %v; want ErrNoBinary saying %q and naming --agent-image", err, tc.want)
			}
			if len(e.Builds()) != 0 {
				t.Errorf("built %v", e.Builds())
			}
		})
	}
}

func TestTagChangesWithBinaryAndResticImage(t *testing.T) {
	base := Tag("v1", "bin1", "restic/restic:0.18.1", "sha256:a")
	for _, other := range []string{
		Tag("v1", "bin2", "restic/restic:0.18.1", "sha256:a"),
		Tag("v1", "bin1", "restic/restic:0.18.0", "sha256:a"),
		Tag("v1", "bin1", "restic/restic:0.18.1", "sha256:b"),
	} {
		if other == base {
			t.Errorf("tag %q did not change", base)
		}
	}
	if got := Tag("v1.0-3-gabc/dirty+x", "b", "r", "i"); strings.ContainsAny(strings.TrimPrefix(got, Repository+":"), "/+:") {
		t.Errorf("tag %q holds characters a tag may not", got)
	}
}

// staticBinary builds a static binary for this machine, as install.sh builds ours.
func staticBinary(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a static binary: %v\n%s", err, b)
	}
	return out
}

// elfArch is this machine's architecture as the engine names it.
func elfArch(t *testing.T, _ string) string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	t.Skipf("no architecture name for GOARCH %s in this test", runtime.GOARCH)
	return ""
}

func tarFiles(t *testing.T, data []byte) map[string][]byte {
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}
