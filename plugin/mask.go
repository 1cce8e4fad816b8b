package plugin

import (
	"context"
	"slices"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/restic"
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

// maskedUpReporter masks everything up's reporter shows: failures, warnings, hooks'
// errors.
type maskedUpReporter struct {
	inner upReporter
	mask  func(string) string
}

func (m maskedUpReporter) Start(svc string, st composeext.Strategy) { m.inner.Start(svc, st) }

func (m maskedUpReporter) Progress(svc string, s restic.Status) { m.inner.Progress(svc, s) }

func (m maskedUpReporter) Done(r backup.Result) { m.inner.Done(m.result(r)) }

func (m maskedUpReporter) Warn(msg string) { m.inner.Warn(m.mask(msg)) }

func (m maskedUpReporter) Finish(results []backup.Result) {
	shown := make([]backup.Result, len(results))
	for i, r := range results {
		shown[i] = m.result(r)
	}
	m.inner.Finish(shown)
}

// result is r as it may be shown; r itself is left as it is.
func (m maskedUpReporter) result(r backup.Result) backup.Result {
	r.Err = maskError(r.Err, m.mask)
	if r.Warnings != nil {
		r.Warnings = slices.Clone(r.Warnings)
		for i, w := range r.Warnings {
			r.Warnings[i] = m.mask(w)
		}
	}
	if r.Hooks != nil {
		r.Hooks = slices.Clone(r.Hooks)
		for i := range r.Hooks {
			r.Hooks[i].Err = maskError(r.Hooks[i].Err, m.mask)
		}
	}
	return r
}

// maskedRestoreReporter masks restore's steps and failures.
type maskedRestoreReporter struct {
	inner restore.Reporter
	mask  func(string) string
}

func (m maskedRestoreReporter) Start(job restore.Job) { m.inner.Start(job) }

func (m maskedRestoreReporter) Step(svc, msg string) { m.inner.Step(svc, m.mask(msg)) }

func (m maskedRestoreReporter) Progress(svc string, s restic.RestoreStatus) {
	m.inner.Progress(svc, s)
}

func (m maskedRestoreReporter) Done(r restore.Result) {
	r.Err = maskError(r.Err, m.mask)
	m.inner.Done(r)
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
