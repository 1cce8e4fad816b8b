package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ServedCopyCommand runs restic with the source repository of a copy served to it by
// the agent: `agent copy-served RESTIC-ARGS…` (copy, or init --copy-chunker-params).
// restic copy opens both repositories in one process, and a backend's environment
// variables (AWS_ACCESS_KEY_ID…) apply to both, so two repositories of one backend
// type with different credentials cannot be opened by restic alone. The agent opens
// the source itself, with its own credentials from FromSpecFile, serves it on
// 127.0.0.1 over restic's REST protocol (RESTServer), and runs restic with
// --from-repository-file naming that server; restic's environment holds the
// destination's settings only.
const ServedCopyCommand = "copy-served"

// FromSpecFile is where the copy's helper finds the source (FromSpec), copied in as a
// file: its credentials never show in `docker inspect` or in argv.
const FromSpecFile = "/run/docker-backup/from.json"

// FromSpec is the source repository of a copy that the agent serves.
type FromSpec struct {
	// Repository is restic's address of the source (s3:…).
	Repository string `json:"repository"`
	// Env holds the source's backend settings and credentials, as restic reads them
	// from its environment.
	Env map[string]string `json:"env,omitempty"`
}

// OpenFrom opens the store of a served source; tests replace it.
type OpenFrom func(FromSpec) (Store, error)

// OpenS3From opens an s3: source (the only backend whose credentials the agent
// serves so far).
func OpenS3From(spec FromSpec) (Store, error) {
	loc, err := ParseS3(spec.Repository)
	if err != nil {
		return nil, fmt.Errorf("the copy's source: %w", err)
	}
	return NewS3Store(loc, spec.Env)
}

// servedCopy is ServedCopyCommand with the source opened by open.
func servedCopy(open OpenFrom) func(ctx context.Context, args []string, env Env) error {
	return func(ctx context.Context, args []string, env Env) error {
		if len(args) == 0 {
			return fmt.Errorf("%w: %s RESTIC-COMMAND [ARGS…]", errUsage, ServedCopyCommand)
		}
		data, err := env.ReadFile(FromSpecFile)
		if err != nil {
			return fmt.Errorf("reading the copy's source: %w", err)
		}
		var spec FromSpec
		if err := json.Unmarshal(data, &spec); err != nil {
			return fmt.Errorf("reading the copy's source %s: %w", FromSpecFile, err)
		}
		store, err := open(spec)
		if err != nil {
			return err
		}
		url, stop, err := serveREST(store)
		if err != nil {
			return err
		}
		defer stop()
		// The server's URL carries its one-time credentials: a file, not argv.
		dir, err := os.MkdirTemp("", "copy-served")
		if err != nil {
			return fmt.Errorf("serving the copy's source: %w", err)
		}
		defer os.RemoveAll(dir)
		repoFile := filepath.Join(dir, "from-repository")
		if err := os.WriteFile(repoFile, []byte(url+"\n"), 0o400); err != nil {
			return fmt.Errorf("serving the copy's source: %w", err)
		}
		// Held as any restic of ours: ended (SIGINT) when the input ends or on a
		// signal. restic removes its locks, the source's read lock among them, on
		// SIGINT, and heldRestic returns once it has exited: the server stays up until
		// then.
		return heldRestic(ctx, fromServed(args, repoFile), env)
	}
}

// serveREST serves store on a free port of 127.0.0.1 with random basic credentials
// and returns restic's rest: address of it and what stops it.
func serveREST(store Store) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("serving the copy's source: %w", err)
	}
	user, password := randomToken(), randomToken()
	srv := &http.Server{
		Handler:           &RESTServer{Store: store, User: user, Password: password},
		ReadHeaderTimeout: time.Minute,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "docker-backup agent %s: %v\n", ServedCopyCommand, err)
		}
	}()
	url := fmt.Sprintf("rest:http://%s:%s@%s/", user, password, l.Addr().String())
	return url, func() { _ = srv.Close() }, nil
}

// randomToken is 16 random bytes in hex.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return strings.ToLower(hex.EncodeToString(b))
}

// fromServed returns restic's arguments with the source named by repoFile: the value of
// a --from-repository-file (or --from-repo) given replaced, else the flag added after
// the command.
func fromServed(args []string, repoFile string) []string {
	out := []string{args[0]}
	named := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "--from-repository-file" || a == "--from-repo") && i+1 < len(args):
			out = append(out, "--from-repository-file", repoFile)
			named = true
			i++
		case strings.HasPrefix(a, "--from-repository-file=") || strings.HasPrefix(a, "--from-repo="):
			out = append(out, "--from-repository-file", repoFile)
			named = true
		default:
			out = append(out, a)
		}
	}
	if !named {
		out = append([]string{out[0], "--from-repository-file", repoFile}, out[1:]...)
	}
	return out
}
