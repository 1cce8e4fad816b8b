package app

import (
	"context"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// A command's lines leave the process through its reporters (console, --json, the
// scheduler's log) and its returned error: each goes through the plan's one masker
// (composeext.Plan.Mask) here, so that no renderer has to remember it. Alerts, pings
// and metrics read report.Run, masked where it is made, and notify masks again what
// it sends.

// maskedError is an error whose text is masked; errors.Is and As still see the
// original, so exit codes are unchanged.
type maskedError struct {
	err error
	msg string
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// maskError returns err with its text masked; nil stays nil, and an error that shows no
// secret is returned as it is.
func maskError(err error, mask func(string) string) error {
	if err == nil {
		return nil
	}
	msg := mask(err.Error())
	if msg == err.Error() {
		return err
	}
	return &maskedError{err: err, msg: msg}
}

// addContainerSecrets adds to the plan's secrets those of the environment of the
// containers of its services that run commands (dumps, hooks): a failing command may
// print them, and the engine's copy of that environment may hold values the compose
// file does not. A container that cannot be inspected adds nothing: the backup says
// what is wrong with it.
func addContainerSecrets(ctx context.Context, api engine.API, plan *composeext.Plan) {
	for _, svc := range plan.Services {
		if svc.Dump == nil && len(svc.Pre)+len(svc.Post)+len(svc.OnSuccess)+len(svc.OnFailure) == 0 {
			continue
		}
		env, err := engine.ServiceEnv(ctx, api, plan.Project, svc.Name)
		if err != nil {
			continue
		}
		plan.AddSecretEnv(env)
	}
}

// addStackSecrets is addContainerSecrets for a swarm stack: the environment of the
// services that run a dump or hooks, as their specs set it (their containers are on
// other nodes, which this process does not reach).
func addStackSecrets(st *engine.Stack, plan *composeext.Plan) {
	for _, svc := range plan.Services {
		if svc.Dump == nil && len(svc.Pre)+len(svc.Post)+len(svc.OnSuccess)+len(svc.OnFailure) == 0 {
			continue
		}
		if ss := st.Service(svc.Name); ss != nil && len(ss.Env) > 0 {
			plan.AddSecretEnv(ss.Env)
		}
	}
}
