package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
)

// drillDump loads a dump into a throwaway copy of the service's running container and
// checks it there. The copy has the service's image and configuration, fresh volumes,
// no network and throwaway passwords; the live container is only inspected.
func drillDump(ctx context.Context, env Env, job restore.Job, t *throwaways, res *report.Result) (string, error) {
	svc := job.Service
	live, err := engine.RunningContainer(ctx, env.API, env.Plan.Project, svc.Name)
	if err != nil {
		return "", fmt.Errorf("the drill copies the service's running container: %w", err)
	}
	drill := svc.Dump.Drill
	name := t.name()
	env.Reporter.Step(svc.Name, fmt.Sprintf("creating %s, a copy of container %s with fresh volumes and no network", name, live.Name))
	spec := engine.ThrowawaySpec{From: live.ID, Name: name, Labels: t.labels()}
	if drill != nil {
		spec.Passwords = drill.PasswordEnv
	}
	id, volumes, err := engine.CreateThrowaway(ctx, env.API, spec)
	if id != "" {
		t.containers = append(t.containers, name)
	}
	t.volumes = append(t.volumes, volumes...)
	if err != nil {
		return "", err
	}
	var probe []string
	if drill != nil {
		probe = drill.Ready
	}
	if err := waitReady(ctx, env, svc.Name, id, probe); err != nil {
		return "", err
	}

	start := time.Now()
	env.Reporter.Step(svc.Name, fmt.Sprintf("loading %s of snapshot %s into %s", job.DumpPath, job.Snapshot.ShortID, name))
	names, err := restore.LoadDump(ctx, restoreEnv(env), job, id, svc.Dump.Restore)
	res.Duration = time.Since(start) // until it failed, too
	if err != nil {
		return "", fmt.Errorf("loading the dump: %w", err)
	}
	if drill != nil && len(drill.Load) > 0 && slices.Equal(svc.Dump.Restore, drill.Load) {
		// The server reads the dump as it starts.
		env.Reporter.Step(svc.Name, "restarting "+name+" to load the dump")
		if err := engine.StopContainer(ctx, env.API, engine.Container{ID: id, Name: name}); err != nil {
			return "", err
		}
		if err := engine.StartContainer(ctx, env.API, id); err != nil {
			return "", err
		}
		if err := waitReady(ctx, env, svc.Name, id, probe); err != nil {
			return "", err
		}
	}
	res.Duration = time.Since(start)
	return check(ctx, env, svc, id, names)
}

// waitReady waits for the throwaway copy's healthcheck, then its preset's probe.
func waitReady(ctx context.Context, env Env, service, id string, probe []string) error {
	env.Reporter.Step(service, "waiting for the copy to be ready")
	return engine.WaitReady(ctx, env.API, id, probe, readyTimeout)
}

// check runs the service's x-backup.verify, or its preset's default check with the
// dump's database names, in the throwaway copy. It returns the check's last line of
// output; a failure holds the end of its stderr (or output).
func check(ctx context.Context, env Env, svc composeext.ServicePlan, id string, names []string) (string, error) {
	var argv []string
	what := "x-backup.verify"
	switch drill := svc.Dump.Drill; {
	case len(svc.Verify) > 0:
		argv = svc.Verify
	case drill != nil && len(drill.Check) > 0:
		argv, what = append(slices.Clone(drill.Check), names...), "the preset's check"
	default:
		return "loaded; no check declared (x-backup.verify)", nil
	}
	env.Reporter.Step(svc.Name, "running "+what)
	return runCheck(what, func(out, errOut *engine.Tail) (int, error) {
		return engine.Exec(ctx, env.API, id, engine.ExecSpec{Cmd: argv, User: svc.Dump.User, Stdout: out, Stderr: errOut, Kill: true})
	})
}

// runCheck runs a check through run and reads its outcome: exit 0 passes with its last
// line of output; anything else fails with the end of its stderr, or of its output.
func runCheck(what string, run func(out, errOut *engine.Tail) (int, error)) (string, error) {
	out, errOut := &engine.Tail{}, &engine.Tail{}
	code, err := run(out, errOut)
	switch {
	case err != nil:
		return "", fmt.Errorf("running %s: %w", what, err)
	case code != 0:
		why := errOut.Suffix()
		if why == "" {
			why = out.Suffix()
		}
		return "", fmt.Errorf("%s failed (exit code %d)%s", what, code, why)
	}
	if line := lastLine(out.String()); line != "" {
		return line, nil
	}
	return what + " passed", nil
}

// lastLine is the last line of s that is not blank, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}
