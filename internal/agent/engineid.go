package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// EngineIDFile is where a helper that gets the engine's socket finds the identity of
// the engine the plugin talks to (engine.Identity as JSON), copied in with its files. Two
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
	// Want is the plugin's engine, Got the one the socket answered as.
	Want, Got engine.Identity
}

// wrongEnginePrefix begins the agent's line for a WrongEngine; JSON follows.
const wrongEnginePrefix = "the socket answers as another engine: "

func (w *WrongEngine) Error() string {
	b, _ := json.Marshal(struct {
		Want engine.Identity `json:"want"`
		Got  engine.Identity `json:"got"`
	}{w.Want, w.Got}) // plain strings always marshal
	return wrongEnginePrefix + string(b)
}

// ParseSocketFailure reads a helper's failed socket check back from its exit code and
// stderr: a *WrongEngine, or the agent's line saying why the socket did not answer.
// It returns nil for any other exit.
func ParseSocketFailure(code int, stderr string) error {
	if code != ExitWrongEngine {
		return nil
	}
	line := strings.TrimSpace(stderr)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if _, rest, ok := strings.Cut(line, wrongEnginePrefix); ok {
		var both struct{ Want, Got engine.Identity }
		if json.Unmarshal([]byte(rest), &both) == nil {
			return &WrongEngine{Want: both.Want, Got: both.Got}
		}
	}
	return errors.New(line)
}

// checkEngine fails unless the socket's engine is the one the plugin named
// (EngineIDFile): before a dump helper stops, execs or reads anything. Without the file
// (a plugin that does not send it) there is nothing to compare with.
func checkEngine(ctx context.Context, api engine.API, env Env) error {
	data, err := env.ReadFile(EngineIDFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the engine's identity: %w", err)
	}
	want, err := engine.ParseIdentity(data)
	if err != nil {
		return err
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return &exitError{code: ExitWrongEngine, err: fmt.Errorf("the socket does not answer as a docker engine: %w", err)}
	}
	if got := info.IdentityAs(want); got != want {
		return &exitError{code: ExitWrongEngine, err: &WrongEngine{Want: want, Got: got}}
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
