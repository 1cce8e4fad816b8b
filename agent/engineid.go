package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/engine"
)

// EngineIDFile is where a helper that gets the engine's socket finds the ID of the
// engine the plugin talks to (`docker info`'s ID), copied in with its files. Two
// engines on one host (rootful and rootless, a second dockerd) each have a socket: one
// of the other engine would exec in no container the plugin named ("No such
// container"), or in the wrong one, so the agent asks the socket who it is first.
const EngineIDFile = "/run/docker-backup/engine-id"

// EngineCheckCommand is `agent engine-check`: that check alone, the run's preflight of
// the socket before anything is stopped.
const EngineCheckCommand = "engine-check"

// ExitWrongEngine is the exit code of a helper whose socket is not the engine's: another
// engine answered, or nothing that answers as an engine (restic never uses it).
const ExitWrongEngine = 67

// WrongEngine is a socket that answers as another engine than the plugin's.
type WrongEngine struct {
	// Want is the plugin's engine's ID, Got the one the socket answered with.
	Want, Got string
}

func (w *WrongEngine) Error() string {
	return fmt.Sprintf("the socket answers as engine ID %s, not ID %s", w.Got, w.Want)
}

// wrongEngineRE reads WrongEngine's message back from the helper's stderr.
var wrongEngineRE = regexp.MustCompile(`the socket answers as engine ID (\S+), not ID (\S+)`)

// ParseSocketFailure reads a helper's failed socket check back from its exit code and
// stderr: a *WrongEngine, or the agent's line saying why the socket did not answer.
// It returns nil for any other exit.
func ParseSocketFailure(code int, stderr string) error {
	if code != ExitWrongEngine {
		return nil
	}
	if m := wrongEngineRE.FindStringSubmatch(stderr); m != nil {
		return &WrongEngine{Got: m[1], Want: m[2]}
	}
	line := strings.TrimSpace(stderr)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	return errors.New(line)
}

// checkEngine fails unless the socket's engine is the one whose ID the plugin copied in
// (EngineIDFile): before a dump helper stops, execs or reads anything. Without the file
// (a plugin that does not send it) there is nothing to compare with.
func checkEngine(ctx context.Context, api engine.API, env Env) error {
	want, err := env.ReadFile(EngineIDFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the engine's ID: %w", err)
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return &exitError{code: ExitWrongEngine, err: fmt.Errorf("the socket does not answer as a docker engine: %w", err)}
	}
	if id := strings.TrimSpace(string(want)); info.ID != id {
		return &exitError{code: ExitWrongEngine, err: &WrongEngine{Want: id, Got: info.ID}}
	}
	return nil
}

// engineCheckTimeout bounds the wait for the socket's answer: a socket that accepts
// and never answers must not hold a dump helper before it has begun.
const engineCheckTimeout = 30 * time.Second

// connectChecked connects through the socket and checks that it is the plugin's engine
// (checkEngine): a dump helper's first step, before its spec is acted on.
func connectChecked(env Env) (engine.API, error) {
	api, err := env.Connect()
	if err != nil {
		return nil, &exitError{code: ExitWrongEngine, err: err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineCheckTimeout)
	defer cancel()
	if err := checkEngine(ctx, api, env); err != nil {
		return nil, err
	}
	return api, nil
}

// runEngineCheck is `agent engine-check`: connectChecked alone.
func runEngineCheck(_ context.Context, _ []string, env Env) error {
	_, err := connectChecked(env)
	return err
}
