package agentimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	_ "embed"
	"fmt"
	"io"
	"os"
)

// elfMachines maps the engine's architecture names (uname -m, as `docker info` shows
// them, and Go's) onto ELF machine types.
var elfMachines = map[string]elf.Machine{
	"x86_64": elf.EM_X86_64, "amd64": elf.EM_X86_64,
	"aarch64": elf.EM_AARCH64, "arm64": elf.EM_AARCH64,
	"armv7l": elf.EM_ARM, "armhf": elf.EM_ARM, "arm": elf.EM_ARM,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// CheckBinary returns nil when the file at path can run in a container of the engine
// (engineOS, engineArch as the engine reports them): a static Linux ELF binary of that
// architecture, which needs nothing from the image it is added to. Otherwise its error
// (ErrNoBinary) says why and what to do instead.
func CheckBinary(path, engineOS, engineArch string) error {
	fail := func(why string) error {
		return fmt.Errorf("%w: %s, so docker-backup cannot build its helper image on the engine (%s/%s): name a prebuilt one with --agent-image or x-backup.agent_image (`make image` builds one)",
			ErrNoBinary, why, engineOS, engineArch)
	}
	if engineOS != "" && engineOS != "linux" {
		return fail("the engine does not run Linux containers")
	}
	f, err := elf.Open(path)
	if err != nil {
		return fail("this docker-backup is not a Linux binary")
	}
	defer f.Close()
	want, known := elfMachines[engineArch]
	if !known || f.Machine != want {
		return fail(fmt.Sprintf("this docker-backup is built for %s", f.Machine))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fail("this docker-backup is linked dynamically (build it with CGO_ENABLED=0, as install.sh does)")
		}
	}
	return nil
}

// dockerfile adds the agent to the restic image (RESTIC_IMAGE). Helpers choose their
// entrypoint themselves; the image's own runs docker-backup.
//
//go:embed Dockerfile
var dockerfile []byte

// buildContext returns the build context of the agent image: the Dockerfile and the
// binary at exe.
func buildContext(exe string) (io.Reader, error) {
	bin, err := os.ReadFile(exe)
	if err != nil {
		return nil, fmt.Errorf("reading this program's binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {"docker-backup", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, fmt.Errorf("writing the build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("writing the build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("writing the build context: %w", err)
	}
	return &buf, nil
}
