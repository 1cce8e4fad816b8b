package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// checkStack says whether the project of command (up, restore) is a swarm stack, with
// the engine's info (the swarm's cluster ID names the stack's series), and refuses
// before anything runs what the command cannot do on any stack: a folder repository
// (one node's), or no agent_image (a swarm's nodes cannot build ours). A swarm that
// cannot be asked is a warning, and the command goes on as for a compose project.
func (a *App) checkStack(ctx context.Context, plan *composeext.Plan, command string, warn func(string)) (*engine.Stack, engine.EngineInfo, error) {
	api, err := a.Docker()
	if err != nil {
		return nil, engine.EngineInfo{}, nil
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		return nil, info, nil
	}
	st, err := detectStack(ctx, api, info, plan.Project, command)
	switch {
	case errors.Is(err, ErrStack):
		return nil, info, err
	case err != nil:
		warn(fmt.Sprintf("not checked whether %s is a swarm stack: %v", plan.Project, err))
		return nil, info, nil
	case st == nil:
		return nil, info, nil
	}
	var lines []string
	if plan.Repository.Local {
		lines = append(lines, plan.KeyLine("x-backup.repository",
			"%s is a folder of one machine, and %s is a swarm stack whose volumes are backed up on the nodes that hold them: use a repository every node reaches (s3:, sftp:, rest:…)",
			plan.Repository.Display, plan.Project))
	}
	if plan.AgentImage == "" {
		lines = append(lines, plan.KeyLine("x-backup.agent_image",
			"not set, and %s is a swarm stack: its helpers run on the stack's nodes, which must have the helper image already (make image, pushed where the nodes pull from); name it here or with --agent-image",
			plan.Project))
	}
	if len(lines) > 0 {
		return nil, info, &composeext.InvalidError{Lines: lines}
	}
	return st, info, nil
}

// stackPlacements places each service of the stack on the node of its one task: its
// backup runs there as jobs of runner (helper.Runner.OnNode). What that cannot do is a
// Placement.Refused line.
func stackPlacements(st *engine.Stack, runner *helper.Runner) func(composeext.ServicePlan) backup.Placement {
	return func(svc composeext.ServicePlan) backup.Placement {
		ss := st.Service(svc.Name)
		if ss == nil {
			return backup.Placement{Refused: fmt.Sprintf("stack %s has no service %s", st.Namespace, svc.Name)}
		}
		if msg := refusedOnStack(*ss); msg != "" {
			return backup.Placement{Refused: msg}
		}
		if len(ss.Tasks) == 0 || ss.Tasks[0].Node.ID == "" {
			return backup.Placement{Refused: fmt.Sprintf("%s has no running task", ss.FullName)}
		}
		for _, m := range svc.Volumes {
			if m.Type == "volume" && !slices.ContainsFunc(ss.Volumes, func(v engine.StackVolume) bool { return v.Name == m.Source && v.Local() }) {
				return backup.Placement{Refused: fmt.Sprintf("%s mounts no local volume %s", ss.FullName, m.Source)}
			}
		}
		t := ss.Tasks[0]
		return backup.Placement{Runner: runner.OnNode(t.Node.ID), Node: t.Node.Hostname}
	}
}
