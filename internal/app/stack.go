package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/failure"
)

// ErrStack marks a command refused because its project is a swarm stack (`docker stack
// deploy -c compose.yaml shop`), or is a stack and a compose project at once: nothing
// was stopped or run. The command line exits 1.
var ErrStack = errors.New("the project is a swarm stack")

// detectStack says whether project is a swarm stack on the engine (info is the engine's):
// the stack when the engine is a swarm manager with services labelled
// com.docker.stack.namespace=<project>, nil for a compose project. The project's compose
// containers beside such services, or a worker node running tasks of the stack (a
// worker cannot list services), are an ErrStack of command.
func detectStack(ctx context.Context, api engine.API, info engine.EngineInfo, project, command string) (*engine.Stack, error) {
	label := engine.LabelStackNamespace + "=" + project
	if !info.Swarm.Manager {
		if info.Swarm.NodeID == "" {
			return nil, nil
		}
		tasks, err := engine.ContainersWithLabels(ctx, api, label)
		if err != nil || len(tasks) == 0 {
			return nil, err
		}
		return nil, failure.Newf(ErrStack, "docker backup %s: %s is a swarm stack (%s; tasks of it run on this node) and this engine is a worker node, which does not see the stack's services: run docker backup against a manager of the swarm (docker -H or --context)",
			command, project, label)
	}
	st, err := engine.FindStack(ctx, api, project)
	if err != nil || st == nil {
		return nil, err
	}
	compose, err := engine.ContainersWithLabels(ctx, api, engine.LabelProject+"="+project)
	if err != nil {
		return nil, err
	}
	if len(compose) > 0 {
		return nil, failure.Newf(ErrStack, "docker backup %s: %s is both a compose project (containers labelled %s=%s) and a swarm stack (services labelled %s): remove one, or deploy one under another name",
			command, project, engine.LabelProject, project, label)
	}
	return st, nil
}

// isStack says whether project is a swarm stack on a manager (services labelled
// com.docker.stack.namespace=<project>), for whose snapshots a command reads. A swarm
// that cannot be listed is no stack: the commands that act on one ask detectStack.
func isStack(ctx context.Context, api engine.API, info engine.EngineInfo, project string) bool {
	if !info.Swarm.Manager {
		return false
	}
	svcs, err := engine.ServicesWithLabels(ctx, api, engine.LabelStackNamespace+"="+project)
	return err == nil && len(svcs) > 0
}

// findStack says whether project is a swarm stack on the engine, for command, with the
// engine's info. An engine that cannot be asked is left to the command's own connection
// to report (nil, no error); a swarm that cannot be listed (a socket proxy that allows
// no swarm call) is a warning, and the project is taken for a compose project.
func (a *App) findStack(ctx context.Context, project, command string, warn func(string)) (*engine.Stack, engine.EngineInfo, error) {
	api, err := a.Docker()
	if err != nil {
		return nil, engine.EngineInfo{}, nil
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return nil, info, nil
	}
	st, err := detectStack(ctx, api, info, project, command)
	switch {
	case errors.Is(err, ErrStack):
		return nil, info, err
	case err != nil:
		warn(fmt.Sprintf("not checked whether %s is a swarm stack: %v", project, err))
		return nil, info, nil
	}
	return st, info, nil
}
