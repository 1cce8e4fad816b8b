package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// File is a file to place in a container before it starts.
type File struct {
	// Path is absolute inside the container; missing parent folders are created.
	Path string
	Mode int64
	Data []byte
}

// CopyFiles writes files into a created container as one tar stream.
func CopyFiles(ctx context.Context, api API, containerID string, files []File) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dirs := map[string]bool{}
	for _, f := range files {
		rel := strings.TrimPrefix(path.Clean(f.Path), "/")
		for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o700, ModTime: now}); err != nil {
			return fmt.Errorf("packing files for the helper: %w", err)
		}
	}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(path.Clean(f.Path), "/"), Mode: f.Mode, Size: int64(len(f.Data)), ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("packing files for the helper: %w", err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("packing files for the helper: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("packing files for the helper: %w", err)
	}
	if _, err := api.CopyToContainer(ctx, containerID, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
		return fmt.Errorf("copying files into the helper container: %w", err)
	}
	return nil
}

// ReadFile returns the content of a regular file in a container, running or not; a
// missing file is an error that wraps ErrNoFile.
func ReadFile(ctx context.Context, api API, containerID, file string) ([]byte, error) {
	res, err := api.CopyFromContainer(ctx, containerID, client.CopyFromContainerOptions{SourcePath: file})
	if cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("reading %s in container %s: %w", file, ShortID(containerID), ErrNoFile)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s in container %s: %w", file, ShortID(containerID), err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("reading %s in container %s: %w", file, ShortID(containerID), ErrNoFile)
		}
		if hdr.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, maxReadFile))
		}
	}
}

// ErrNoFile is ReadFile's error for a file the container does not have.
var ErrNoFile = errors.New("no such file")

// maxReadFile bounds what ReadFile reads: it is for small state files.
const maxReadFile = 16 << 20
