package enginetest

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
)

// Program is what a container made with ContainerCreate does once started: it reads
// the process's input and writes its output, and returns its exit code. When the
// container is killed its output is cut and its input reads fail; the code it returns
// then no longer counts.
type Program func(p *Process) int

// Process is a started container as its program sees it.
type Process struct {
	// Container is the container when it started: config, host config, files.
	Container
	// Stdin is the attached input, or empty.
	Stdin io.Reader
	// Stdout and Stderr reach the attached caller, or nowhere.
	Stdout, Stderr io.Writer
}

// Argv is the process's command line: the entrypoint, then the command.
func (p *Process) Argv() []string {
	return append(append([]string(nil), p.Config.Entrypoint...), p.Config.Cmd...)
}

// Cat reads its input to the end and exits 0: a held container (engine.StartHeld),
// or any container a test gives no program.
func Cat(p *Process) int {
	_, _ = io.Copy(io.Discard, p.Stdin)
	return 0
}

// untar reads a tar stream copied to dest into files by absolute path; folders are
// skipped.
func untar(dest string, r io.Reader) (map[string]string, error) {
	files := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("enginetest: reading the tar stream: %w", err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("enginetest: reading the tar stream: %w", err)
		}
		files[path.Join("/", dest, h.Name)] = string(b)
	}
}
