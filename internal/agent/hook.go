package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// HookCommand is `agent hook --spec FILE`: a hook command (the spec's Cmd) exec'd in
// the spec's container through the socket, by a job on a swarm stack's node, where the
// plugin has no engine of its own to exec through. The hook's outcome is one HookResult
// line on the agent's output, and the agent exits 0; a failure of its own (the socket,
// the spec) is its exit code and one line, as for a dump.
const HookCommand = "hook"

// HookResult is how a hook ended: its exit code and the tail of its stderr.
type HookResult struct {
	ExitCode int    `json:"exit_code"`
	Stderr   string `json:"stderr,omitempty"`
}

// ParseHookResult reads a hook job's output: its last HookResult line.
func ParseHookResult(out string) (HookResult, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r HookResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return HookResult{}, fmt.Errorf("reading the hook's outcome: %w", err)
	}
	return r, nil
}

// runHook is `agent hook --spec FILE`. The hook is ended in its container when the
// agent is stopped (SIGTERM: the job's service removed at the hook's timeout, or by the
// run's end) or the plugin that held its input has gone.
func runHook(ctx context.Context, args []string, env Env) error {
	if len(args) != 2 || args[0] != "--spec" {
		return fmt.Errorf("%w: hook --spec FILE", errUsage)
	}
	data, err := env.ReadFile(args[1])
	if err != nil {
		return fmt.Errorf("reading the hook's spec: %w", err)
	}
	spec, err := dump.ParseSpec(data)
	if err != nil {
		return err
	}
	api, err := connectChecked(env)
	if err != nil {
		return err
	}
	ctx, cancel := untilEndOfInput(ctx, heldInput(env))
	defer cancel()
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.Exec(ctx, api, spec.Container, engine.ExecSpec{
		Cmd: spec.Cmd, User: spec.User, Env: spec.Env, Stdout: io.Discard, Stderr: stderr, Kill: true,
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%w: the hook was ended in its container", errInterrupted)
	case err != nil:
		return fmt.Errorf("running the hook: %w", err)
	}
	line, _ := json.Marshal(HookResult{ExitCode: code, Stderr: stderr.String()}) // an int and a string always marshal
	_, err = fmt.Fprintf(env.Out, "%s\n", line)
	return err
}
