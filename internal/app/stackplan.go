package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
)

// StackPlan is where a swarm stack's services run, as plan shows it (--json: "stack").
type StackPlan struct {
	Namespace string `json:"namespace"`
	// Manager is the node of the engine asked.
	Manager  engine.Node        `json:"manager"`
	Services []StackServicePlan `json:"services"`
}

// StackServicePlan is one service of the plan as the stack runs it.
type StackServicePlan struct {
	// Name is the service's name in the compose file; Service swarm's, empty when the
	// stack has no such service.
	Name    string             `json:"name"`
	Service string             `json:"service,omitempty"`
	Mode    engine.ServiceMode `json:"mode,omitempty"`
	// Replicas is the count a replicated service asks for.
	Replicas *uint64 `json:"replicas,omitempty"`
	// Tasks are the tasks swarm wants running, each with its node: the service's local
	// volumes are those of that node.
	Tasks   []engine.Task        `json:"tasks"`
	Volumes []engine.StackVolume `json:"volumes,omitempty"`
	// Stop says how a stop: true service is stopped for its copy on the stack.
	Stop string `json:"stop,omitempty"`
	// Refused says in one line why up refuses the service on the stack; empty: it does not.
	Refused string `json:"refused,omitempty"`
}

// StackPlan says where the plan's services run when its project is a swarm stack, nil
// when it is not. An engine or a swarm that cannot be asked is a warning: plan works
// without an engine. A stack that is a compose project too is an ErrStack; a global
// service with stop: true a configuration error (swarm cannot scale a global service
// to 0, moby 24901).
func (a *App) StackPlan(ctx context.Context, plan *composeext.Plan, warn func(string)) (*StackPlan, error) {
	notChecked := func(err error) { warn(fmt.Sprintf("not checked whether %s is a swarm stack: %v", plan.Project, err)) }
	api, err := a.Docker()
	if err != nil {
		notChecked(err)
		return nil, nil
	}
	info, err := engine.Info(ctx, api)
	if err != nil {
		notChecked(err)
		return nil, nil
	}
	st, err := detectStack(ctx, api, info, plan.Project, "plan")
	switch {
	case errors.Is(err, ErrStack):
		return nil, err
	case err != nil:
		notChecked(err)
		return nil, nil
	case st == nil:
		return nil, nil
	}
	return stackPlan(plan, st)
}

// stackPlan joins the plan's services with the stack's.
func stackPlan(plan *composeext.Plan, st *engine.Stack) (*StackPlan, error) {
	out := &StackPlan{Namespace: st.Namespace, Manager: st.Manager, Services: []StackServicePlan{}}
	var invalid []string
	for _, s := range plan.Services {
		sp := StackServicePlan{Name: s.Name, Tasks: []engine.Task{}}
		if ss := st.Service(s.Name); ss != nil {
			sp.Service, sp.Mode, sp.Volumes = ss.FullName, ss.Mode, ss.Volumes
			if ss.Tasks != nil {
				sp.Tasks = ss.Tasks
			}
			if ss.Mode == engine.ModeReplicated {
				n := ss.Replicas
				sp.Replicas = &n
			}
			if s.Strategy != composeext.StrategyNone {
				sp.Refused = refusedOnStack(*ss)
			}
			if s.Stop && s.Strategy == composeext.StrategyVolumes && ss.Mode == engine.ModeReplicated {
				sp.Stop = fmt.Sprintf("scaled to 0 for the copy (no task runs), then back to %d", ss.Replicas)
			}
			if s.Stop && ss.Mode.Global() {
				invalid = append(invalid, plan.KeyLine("services."+s.Name+".x-backup.stop",
					"%s is a %s swarm service, which cannot be stopped for the copy: swarm cannot scale it to 0 (moby 24901); set stop: false, or deploy it replicated", ss.FullName, ss.Mode))
			}
		}
		out.Services = append(out.Services, sp)
	}
	if len(invalid) > 0 {
		return nil, &composeext.InvalidError{Lines: invalid}
	}
	return out, nil
}

// refusedOnStack says why a service that is backed up cannot be on a stack, or "":
// more than one task with local volumes, where each task has a volume of its own.
func refusedOnStack(s engine.StackService) string {
	var local []string
	for _, v := range s.Volumes {
		if v.Local() {
			local = append(local, v.Name)
		}
	}
	tasks := uint64(len(s.Tasks))
	if s.Mode == engine.ModeReplicated {
		tasks = max(tasks, s.Replicas)
	}
	if len(local) == 0 || tasks <= 1 {
		return ""
	}
	return fmt.Sprintf("%d tasks with local volumes (%s): each task would have its own volume, on its own node", tasks, strings.Join(local, ", "))
}

// PlanProblems are what plan warns of, one line each, or fails on with --strict: data
// with no backup decision, and the services up refuses on the stack (stack may be nil).
func PlanProblems(plan *composeext.Plan, stack *StackPlan) []string {
	var out []string
	if len(plan.Unprotected) > 0 {
		out = append(out, UnprotectedMessage(plan.Unprotected))
	}
	if stack != nil {
		for _, s := range stack.Services {
			if s.Refused != "" {
				out = append(out, fmt.Sprintf("stack %s: up refuses service %s: %s", stack.Namespace, s.Name, s.Refused))
			}
		}
	}
	return out
}
