package restic

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// The kinds of the invocations that read a second repository besides their own (the
// runner gives them its folder, URL and password as files, see FromRepository).
const (
	KindCopy     = "copy"
	KindInitFrom = "init-from"
)

// FromRepository is how restic reaches the repository a copy reads from: the flags
// naming the files that hold its URL and password in the helper (never the values, which
// stay out of argv).
type FromRepository struct {
	RepositoryFile, PasswordFile string
}

func (f FromRepository) args() []string {
	return []string{"--from-repository-file", f.RepositoryFile, "--from-password-file", f.PasswordFile}
}

// InitFrom creates the repository with the chunker parameters of from, so that what is
// copied from there deduplicates as it does there (restic's --copy-chunker-params:
// otherwise a copy can take up to twice the space, and they cannot be changed later).
func InitFrom(ctx context.Context, r Runner, from FromRepository) error {
	args := append([]string{"init"}, from.args()...)
	args = append(args, "--copy-chunker-params")
	if err := r.Run(ctx, Invocation{Args: args, Stdout: io.Discard, Kind: KindInitFrom, Held: true}); err != nil {
		return fmt.Errorf("creating the repository: %w", err)
	}
	return nil
}

// CopyProgress is what restic copy says as it goes: the snapshot of the source it
// begins (Source), or the one it saved in the destination (Saved).
type CopyProgress struct {
	Source, Saved string
}

// Copy copies the snapshots ids of from into the repository; restic skips those it
// already holds and, after an interruption, what was uploaded stays for the next copy.
// It holds from's read lock and the repository's append lock, and removes them when it
// ends or is stopped (the invocation is held: see Invocation.Held). progress, when
// set, gets each snapshot begun and saved.
func Copy(ctx context.Context, r Runner, from FromRepository, ids []string, progress func(CopyProgress)) error {
	if len(ids) == 0 {
		return nil
	}
	args := append([]string{"copy"}, from.args()...)
	args = append(args, ids...)
	pr, pw := io.Pipe()
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if p, ok := parseCopyLine(sc.Text()); ok && progress != nil {
				progress(p)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := r.Run(ctx, Invocation{Args: args, Stdout: pw, Kind: KindCopy, Held: true})
	pw.Close()
	<-read
	if err != nil {
		return fmt.Errorf("copying snapshots: %w", err)
	}
	return nil
}

// parseCopyLine reads restic copy's text output (it has no JSON): "snapshot 1a2b3c4d of
// [/d] at … by …" begins a snapshot, "snapshot 5e6f7a8b saved" ends one.
func parseCopyLine(line string) (CopyProgress, bool) {
	f := strings.Fields(line)
	switch {
	case len(f) >= 3 && f[0] == "snapshot" && f[2] == "of":
		return CopyProgress{Source: f[1]}, true
	case len(f) == 3 && f[0] == "snapshot" && f[2] == "saved":
		return CopyProgress{Saved: f[1]}, true
	}
	return CopyProgress{}, false
}
