// Package atomicfile replaces a file whole: a reader sees the old content or the new,
// never a part, and once WriteFile returned the new content survives a crash. It is
// renameio (temporary file in the same folder, fsync, rename) plus the fsync of the
// folder that makes the rename itself durable, which renameio leaves to its caller.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// WriteFile replaces the file at path with data, mode perm whatever the umask. The
// temporary file is in path's folder (a rename does not cross file systems), named as
// IsTemp says; it is removed when WriteFile fails.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	// Not renameio.WriteFile: it keeps an existing file's mode, where perm is wanted.
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer func() { _ = f.Cleanup() }()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return err
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}

// IsTemp reports whether name (a file name, not a path) is one of WriteFile's temporary
// files for a file named base: "." + base + decimal digits. One is left behind only by
// a process killed while it wrote.
func IsTemp(name, base string) bool {
	digits, ok := strings.CutPrefix(name, "."+base)
	if !ok || digits == "" {
		return false
	}
	return strings.Trim(digits, "0123456789") == ""
}

// SyncDir makes the renames into and out of a folder, and its entries' removals,
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
