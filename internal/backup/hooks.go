package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
)

// hookTimeout bounds each hook command; one that runs longer is ended (its process
// and descendants in the service's container) and counts as failed.
const hookTimeout = 2 * time.Minute

// cleanupHooks bounds the post and outcome hooks of a service together on a cleanup
// path (after Ctrl-C or a timeout), where the run's context no longer bounds them.
const cleanupHooks = 5 * time.Minute

// withHooks runs body between the service's pre and post hooks. Pre hooks run in order
// until one fails, and then body does not run. Post hooks run whenever a pre hook was
// started or body ran, whatever their outcome and also after Ctrl-C or the service's
// timeout, so that what pre did (a pause, a lock) is undone. A failing post hook is a
// warning, not a failure: the snapshot was made.
func withHooks(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement, res *outcome, body func(context.Context) error) error {
	started, err := runHookList(ctx, env, svc, place, "pre", svc.Pre, res)
	ran := false
	if err == nil {
		ran = true
		err = body(ctx)
	}
	if started == 0 && !ran {
		return err
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if _, perr := runHookList(cctx, env, svc, place, "post", svc.Post, res); perr != nil {
		res.Warnings = append(res.Warnings, perr.Error())
		res.hookWarning = true
	}
	return err
}

// runOutcomeHooks runs on_success or on_failure once the service's outcome is known. A
// failing one is a warning.
func runOutcomeHooks(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement, res *outcome) {
	list, which := svc.OnSuccess, "on_success"
	switch res.Status {
	case StatusSkipped:
		return
	case StatusFailed:
		list, which = svc.OnFailure, "on_failure"
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if _, err := runHookList(cctx, env, svc, place, which, list, res); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
		res.hookWarning = true
	}
}

// cleanupContext is ctx without its cancellation, bounded by cleanupHooks.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupHooks)
}

// runHookList runs one list of hooks in the service's running container, in order,
// recording each outcome in res; the first failure stops the list. It returns how many
// were started. On a swarm stack (place not nil) each runs in the task's container on
// its node, through a job (Placement.Hook).
func runHookList(ctx context.Context, env Env, svc composeext.ServicePlan, place *Placement, which string, hooks [][]string, res *outcome) (int, error) {
	if len(hooks) == 0 {
		return 0, nil
	}
	var exec hookExec
	if place != nil {
		if place.Container == "" || place.Hook == nil {
			return 0, fmt.Errorf("running %s hooks: the task of %q on node %s has no container yet", which, svc.Name, place.Node)
		}
		exec = func(ctx context.Context, cmd []string, stderr io.Writer) (int, error) {
			code, tail, err := place.Hook(ctx, place.Container, cmd)
			_, _ = io.WriteString(stderr, tail)
			return code, err
		}
	} else {
		c, err := engine.RunningContainer(ctx, env.Run.API, env.Plan.Project, svc.Name)
		if err != nil {
			return 0, fmt.Errorf("running %s hooks: %w", which, err)
		}
		exec = func(ctx context.Context, cmd []string, stderr io.Writer) (int, error) {
			return engine.Exec(ctx, env.Run.API, c.ID, engine.ExecSpec{Cmd: cmd, Stderr: stderr, Kill: true})
		}
	}
	for i, cmd := range hooks {
		h := runHook(ctx, exec, which, i+1, cmd)
		res.Hooks = append(res.Hooks, h)
		if h.Err != nil {
			return i + 1, h.Err
		}
	}
	return len(hooks), nil
}

// hookExec runs a hook command in the service's container and returns its exit code;
// its stderr goes to stderr. It ends the command when ctx ends.
type hookExec func(ctx context.Context, cmd []string, stderr io.Writer) (int, error)

// runHook runs hook number n of a list, ended after hookTimeout.
func runHook(ctx context.Context, exec hookExec, which string, n int, cmd []string) report.HookResult {
	name := fmt.Sprintf("%s hook %d", which, n)
	hctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	start := time.Now()
	stderr := &engine.Tail{Max: 2048}
	code, err := exec(hctx, cmd, stderr)
	h := report.HookResult{Hook: fmt.Sprintf("%s %d", which, n), ExitCode: code, Duration: time.Since(start)}
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		h.Err = fmt.Errorf("%s did not end within %s and was ended%s", name, hookTimeout, stderr.Suffix())
	case err != nil:
		h.Err = fmt.Errorf("%s: %w", name, err)
	case code != 0:
		h.Err = fmt.Errorf("%s exited with code %d%s", name, code, stderr.Suffix())
	}
	return h
}
