package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Exit codes of `agent preflight`.
const (
	PreflightTarget = 4 // a live mount is not what the snapshot holds (file or folder)
	PreflightMarker = 5 // writing the marker into a staging volume failed
)

// PreflightSpec is what `agent preflight` checks before a volume restore stops anything.
type PreflightSpec struct {
	// Nonce is the restore's; the marker .docker-backup-staged-<nonce> holds it.
	Nonce  string           `json:"nonce"`
	Mounts []PreflightMount `json:"mounts"`
}

// PreflightMount is one mount of the service: its live content and its staging folder.
type PreflightMount struct {
	// File is true when the snapshot holds a file (a bind-mounted file), not a folder.
	File    bool   `json:"file,omitempty"`
	Live    string `json:"live"`
	Staging string `json:"staging"`
}

// PreflightReport is printed per mount, one JSON object a line, in the spec's order.
type PreflightReport struct {
	// LiveDevice and StagingDevice say whether both are on one filesystem.
	LiveDevice    uint64 `json:"live_device"`
	StagingDevice uint64 `json:"staging_device"`
	// LiveKiB is what the live content takes; FreeKiB is free where staging is.
	LiveKiB uint64 `json:"live_kib"`
	FreeKiB uint64 `json:"free_kib"`
}

// StagedMarker is the name of the marker file of a restore's staging folders.
func StagedMarker(nonce string) string { return ".docker-backup-staged-" + nonce }

// preflight checks each live mount is a folder or a file as the snapshot says, writes
// the marker into each staging folder and reports sizes and free space.
func preflight(_ context.Context, args []string, s Streams) error {
	var spec PreflightSpec
	if err := readSpec("preflight", args, &spec); err != nil {
		return err
	}
	enc := json.NewEncoder(s.Out)
	for _, m := range spec.Mounts {
		st, err := os.Stat(m.Live)
		switch {
		case err != nil:
			return failWith(PreflightTarget, "the live mount: %w", err)
		case m.File && !st.Mode().IsRegular():
			return failWith(PreflightTarget, "the live mount is not a file, the snapshot holds a file")
		case !m.File && !st.IsDir():
			return failWith(PreflightTarget, "the live mount is not a folder, the snapshot holds a folder")
		}
		if err := os.WriteFile(filepath.Join(m.Staging, StagedMarker(spec.Nonce)), []byte(spec.Nonce), 0o600); err != nil {
			return failWith(PreflightMarker, "marking the staging volume: %w", err)
		}
		rep := PreflightReport{LiveDevice: device(st), LiveKiB: usage(m.Live) / 1024}
		if sst, err := os.Stat(m.Staging); err == nil {
			rep.StagingDevice = device(sst)
		}
		var sfs syscall.Statfs_t
		if err := syscall.Statfs(m.Staging, &sfs); err == nil {
			rep.FreeKiB = sfs.Bavail * uint64(sfs.Bsize) / 1024
		}
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	return nil
}

// device is the filesystem a file is on.
func device(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// usage is what the tree at root takes on disk, in bytes (as du counts: allocated
// blocks, hard links once); what cannot be read counts nothing.
func usage(root string) uint64 {
	var total uint64
	seen := map[[2]uint64]bool{}
	_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if st.Nlink > 1 && !fi.IsDir() {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		total += uint64(st.Blocks) * 512
		return nil
	})
	return total
}

// empty fails with exit code 1 unless the folder in args holds nothing.
func empty(_ context.Context, args []string, _ Streams) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: empty FOLDER", errUsage)
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("looking into %s: %w", args[0], err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if len(names) > 0 {
		return failWith(ExitFailure, "%s is not empty", args[0])
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("looking into %s: %w", args[0], err)
	}
	return nil
}
