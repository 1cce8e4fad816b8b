package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// checkStack says whether the project of command (up, restore, schedule) is a swarm
// stack, with the engine's info (the swarm's cluster ID names the stack's series), and
// refuses before anything runs what the command cannot do on any stack (stackNeeds). A
// swarm that cannot be asked is a warning, and the command goes on as for a compose
// project.
func (a *App) checkStack(ctx context.Context, plan *composeext.Plan, command string, warn func(string)) (*engine.Stack, engine.EngineInfo, error) {
	st, info, err := a.findStack(ctx, plan.Project, command, warn)
	if err != nil || st == nil {
		return nil, info, err
	}
	if err := stackNeeds(plan); err != nil {
		return nil, info, err
	}
	return st, info, nil
}

// stackNeeds refuses, in one line per key, what no command that runs helpers on a
// stack's nodes can do: a folder repository (one node's), or no agent_image (a swarm's
// nodes cannot build ours).
func stackNeeds(plan *composeext.Plan) error {
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
		return &composeext.InvalidError{Lines: lines}
	}
	return nil
}

// stackPlacements places each service of the stack on the node of its one task: its
// backup runs there as jobs of runner (helper.Runner.OnNode), and a stop: true service
// is scaled to 0 and back. What that cannot do is a Placement.Refused line.
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
		if svc.Stop && ss.Mode != engine.ModeReplicated {
			return backup.Placement{Refused: fmt.Sprintf("%s is a %s swarm service, which cannot be scaled to 0 for stop: true (moby 24901)", ss.FullName, ss.Mode)}
		}
		// The node is noted now: once the service is scaled to 0 it has no task.
		t := ss.Tasks[0]
		var local []string
		for _, v := range ss.Volumes {
			if v.Local() {
				local = append(local, v.Name)
			}
		}
		node := runner.OnNode(t.Node.ID)
		return backup.Placement{Runner: node, Node: t.Node.Hostname, Container: t.ContainerID,
			ServiceID: ss.ID, ServiceName: ss.FullName, LocalVolumes: local,
			Hook: func(ctx context.Context, container string, cmd []string) (int, string, error) {
				return node.Hook(ctx, svc.Name, container, cmd)
			}}
	}
}
