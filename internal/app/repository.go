package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// errNoPassword is a repository with no password source.
var errNoPassword = fmt.Errorf("%w: no repository password: set x-backup.password_file or password_command, "+
	"--password-file, DOCKER_BACKUP_PASSWORD_FILE, RESTIC_PASSWORD_FILE or RESTIC_PASSWORD", composeext.ErrInvalid)

// repository reads the password from its source and prepares the default local
// repository's folder; another local repository's folder must exist (init creates it).
// For the default local repository with no password configured, it generates a key file
// once and says so on stderr. A folder of a remote engine's host is neither created nor
// checked here: it is not this machine's, and the engine says when it is missing.
func repository(ctx context.Context, plan *composeext.Plan, stderr io.Writer) (helper.Repo, error) {
	return openRepository(ctx, plan.Repository, stderr)
}

// openRepository is repository for any of the plan's repositories: the primary, or a
// copy (never the default one, nor with a generated key).
func openRepository(ctx context.Context, r composeext.Repository, stderr io.Writer) (helper.Repo, error) {
	repo := helper.Repo{URL: r.URL, Local: r.Local, Env: r.Env}
	switch {
	case r.OnEngine():
	case r.Default:
		if err := os.MkdirAll(r.URL, 0o700); err != nil {
			return repo, fmt.Errorf("creating the repository folder: %w", err)
		}
	case r.Local:
		if _, err := os.Stat(r.URL); errors.Is(err, fs.ErrNotExist) {
			return repo, fmt.Errorf("repository %s does not exist (is its disk mounted?): create it with 'docker backup init'", r.Display)
		}
	}
	if r.GeneratePassword {
		if err := generateKeyFile(r.PasswordFile, stderr); err != nil {
			return repo, err
		}
	}
	var err error
	switch {
	case r.PasswordFile != "":
		repo.Password, err = os.ReadFile(r.PasswordFile)
		if err != nil {
			return repo, fmt.Errorf("%w: reading the repository password: %w", composeext.ErrInvalid, err)
		}
	case len(r.PasswordCommand) > 0:
		repo.Password, err = runPasswordCommand(ctx, r.PasswordCommand)
		if err != nil {
			return repo, err
		}
	case r.Password != "":
		repo.Password = []byte(r.Password)
	default:
		return repo, errNoPassword
	}
	if len(bytes.TrimSpace(repo.Password)) == 0 {
		return repo, fmt.Errorf("%w: the repository password is empty", composeext.ErrInvalid)
	}
	return repo, nil
}

// generateKeyFile writes a random password to path unless the file exists.
func generateKeyFile(path string, stderr io.Writer) error {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("generating a repository password: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the repository key file: %w", err)
	}
	if _, err := fmt.Fprintln(f, base64.RawURLEncoding.EncodeToString(key[:])); err != nil {
		f.Close()
		return fmt.Errorf("writing the repository key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the repository key file: %w", err)
	}
	fmt.Fprintf(stderr, "Generated the repository password in %s.\nKeep a copy of it somewhere else: without it the backups cannot be read.\n", path)
	return nil
}

// runPasswordCommand runs x-backup.password_command on this host and returns its output.
func runPasswordCommand(ctx context.Context, argv []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// A configuration problem, like an unreadable password file: exit code 2.
		return nil, fmt.Errorf("%w: running the password command: %w: %s", composeext.ErrInvalid, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
