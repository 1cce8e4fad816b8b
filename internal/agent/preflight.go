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
	PreflightSpace  = 6 // the engine's volume storage has no room for the restore (PreflightRestic)
)

// PreflightResticCommand is `agent preflight-restic RESTIC-ARGS…`: the preflight, its
// space check included (PreflightSpec.Staged), then restic in the same helper, so a
// restore's first helper is also its last before the swap. Its exit codes are the
// preflight's (above) or restic's, which uses none of them.
const PreflightResticCommand = "preflight-restic"

// PreflightSpec is what `agent preflight` checks before a volume restore stops anything.
type PreflightSpec struct {
	// Nonce is the restore's; the marker .docker-backup-staged-<nonce> holds it.
	Nonce  string           `json:"nonce"`
	Mounts []PreflightMount `json:"mounts"`
	// Staged is the estimate of the snapshot's size once restored, in KiB, and
	// StagedKnown whether there is one (CheckSpace); preflight-restic checks the room.
	Staged      uint64 `json:"staged_kib,omitempty"`
	StagedKnown bool   `json:"staged_known,omitempty"`
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
	reports, err := preflightChecks(spec)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(s.Out)
	for _, rep := range reports {
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	return nil
}

// preflightRestic runs the preflight with its space check, then restic with args: no
// byte is restored into a staging volume that is not marked, or that has no room.
func preflightRestic(args []string, env Env) error {
	var spec PreflightSpec
	if err := readSpec("preflight", nil, &spec); err != nil {
		return err
	}
	reports, err := preflightChecks(spec)
	if err != nil {
		return err
	}
	if err := CheckSpace(reports, spec.Staged, spec.StagedKnown); err != nil {
		return failWith(PreflightSpace, "%w", err)
	}
	return execRestic(args, env.Environ)
}

// preflightChecks checks each mount of spec, writes the markers and measures.
func preflightChecks(spec PreflightSpec) ([]PreflightReport, error) {
	var reports []PreflightReport
	for _, m := range spec.Mounts {
		st, err := os.Stat(m.Live)
		switch {
		case err != nil:
			return nil, failWith(PreflightTarget, "the live mount: %w", err)
		case m.File && !st.Mode().IsRegular():
			return nil, failWith(PreflightTarget, "the live mount is not a file, the snapshot holds a file")
		case !m.File && !st.IsDir():
			return nil, failWith(PreflightTarget, "the live mount is not a folder, the snapshot holds a folder")
		}
		if err := os.WriteFile(filepath.Join(m.Staging, StagedMarker(spec.Nonce)), []byte(spec.Nonce), 0o600); err != nil {
			return nil, failWith(PreflightMarker, "marking the staging volume: %w", err)
		}
		rep := PreflightReport{LiveDevice: device(st), LiveKiB: usage(m.Live) / 1024}
		if sst, err := os.Stat(m.Staging); err == nil {
			rep.StagingDevice = device(sst)
		}
		var sfs syscall.Statfs_t
		if err := syscall.Statfs(m.Staging, &sfs); err == nil {
			rep.FreeKiB = sfs.Bavail * uint64(sfs.Bsize) / 1024
		}
		reports = append(reports, rep)
	}
	return reports, nil
}

// CheckSpace compares the room a restore takes on the engine's volume storage with what
// is free there (the reports' figures): the staged snapshot, the rollback copy of the
// live content and, where the live mounts are on the same storage, what the new content
// takes beyond the old. Sizes are estimates in KiB: staged, or when it is not known,
// the live content's size (a snapshot of a service is usually about the size of what
// it holds now), and du's. No free figure: nothing to compare.
func CheckSpace(reports []PreflightReport, staged uint64, known bool) error {
	var live, liveSame, free uint64
	sawFree, same := false, false
	for _, r := range reports {
		live += r.LiveKiB
		if r.LiveDevice == r.StagingDevice {
			same = true
			liveSame += r.LiveKiB
		}
		free, sawFree = r.FreeKiB, r.FreeKiB > 0 || sawFree
	}
	if !known {
		staged = live
	}
	need := staged + live
	if same && staged > liveSame {
		need += staged - liveSame
	}
	if sawFree && need > free {
		return fmt.Errorf("not enough free space: the restore needs about %s on the engine's volume storage (the staged snapshot and the rollback copy of the live content), %s are free", kib(need), kib(free))
	}
	return nil
}

// kib formats a size in KiB for a message.
func kib(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d KiB", n)
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
