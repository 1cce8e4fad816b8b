package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/internal/run"
	"github.com/docker-backup/docker-backup/restic"
)

// RestoreOptions are what restore is asked to do.
type RestoreOptions struct {
	Load composeext.LoadOptions
	// Targets are the services to restore, each with its snapshot selector.
	Targets []restore.Target
	// To restores into this volume (volumes) or service (dump) instead.
	To         string
	NoRollback bool
	// Node restores a swarm stack's service onto this node (hostname or ID) instead of
	// the one its task runs on.
	Node string
	// From reads the snapshots from this copy repository (x-backup.copies) instead of
	// the primary.
	From string
	// DryRun returns the steps (Restore's first result) and changes nothing.
	DryRun bool
	Run    RunSettings
	// Confirm, when set, is asked before anything changes, with what each job will do;
	// false cancels (ErrDeclined).
	Confirm func(what []string) (bool, error)
}

// ParseTargets reads restore's SERVICE[@SNAPSHOT] arguments; a restore --to takes one.
func ParseTargets(args []string, to string) ([]restore.Target, error) {
	if to != "" && len(args) > 1 {
		return nil, usageErrorf("--to restores one service, not %d", len(args))
	}
	var out []restore.Target
	for _, a := range args {
		t, err := restore.ParseTarget(a)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// ErrDeclined is a restore that Confirm declined: nothing was changed.
var ErrDeclined = errors.New("restore cancelled: nothing was changed")

// Restore restores each target service from its snapshot, one after the other. With
// DryRun it returns the steps it would take. A service's failure is in its Done event
// and makes the returned error.
func (a *App) Restore(ctx context.Context, opts RestoreOptions, sink Sink) (steps []string, err error) {
	var names []string
	for _, t := range opts.Targets {
		names = append(names, t.Service)
	}
	plan, err := LoadPlan(ctx, opts.Load, names)
	if err != nil {
		return nil, err
	}
	defer func() { err = maskError(err, plan.Mask) }()
	stack, info, err := a.checkStack(ctx, plan, "restore", WarnFunc(sink))
	if err != nil {
		return nil, err
	}
	if stack == nil && opts.Node != "" {
		return nil, usageErrorf("--node restores a swarm stack's service onto a node of the swarm, and %s is no swarm stack here", plan.Project)
	}
	fromPlan, err := fromCopy(plan, opts.From)
	if err != nil {
		return nil, err
	}
	plan = fromPlan
	if stack != nil {
		if err := copyStackNeeds(plan, opts.From); err != nil {
			return nil, err
		}
	}
	s, err := a.connect(ctx, plan)
	if err != nil {
		return nil, err
	}
	var node *engine.Node
	if stack != nil {
		// The stack's one series (see up), whichever node the snapshot was made on.
		s.identity = run.IdentifyStack(plan.Project, plan.Host, info.Swarm.ClusterID)
		if opts.Node != "" {
			n, err := engine.FindNode(ctx, s.api, opts.Node)
			if err != nil {
				return nil, err
			}
			node = &n
		}
	}
	addContainerSecrets(ctx, s.api, plan)
	events := restoreEvents{sink: sink, mask: plan.Mask}
	env := restore.Env{API: s.api, Runner: s.runner, Identity: s.identity, Plan: plan, Reporter: events}
	ropts := restore.Options{To: opts.To, NoRollback: opts.NoRollback, Stack: stack != nil}
	jobs, err := restore.Prepare(ctx, env, opts.Targets, ropts)
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		if l := fromLine(plan, opts.From); l != "" {
			steps = append(steps, l)
		}
		for _, j := range jobs {
			steps = append(steps, j.Steps(ropts)...)
		}
		return steps, nil
	}
	if opts.Confirm != nil {
		var what []string
		if l := fromLine(plan, opts.From); l != "" {
			what = append(what, l)
		}
		for _, j := range jobs {
			what = append(what, j.Describe())
		}
		ok, err := opts.Confirm(what)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrDeclined
		}
	}
	r, err := s.begin(ctx, plan, "restore", opts.Run, beginOptions{listed: true, stack: stack != nil}, WarnFunc(sink))
	if err != nil {
		return nil, err
	}
	defer r.End(ctx)
	env.Run = r
	if stack != nil {
		env.Place = restorePlacements(stack, r.Runner, node)
	}
	results := restore.Run(ctx, env, jobs, ropts)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := restore.Failed(results); err != nil {
		// A failed restore exits 1 whatever its cause: the cause's own kind (a refusal,
		// an invalid setting) was the service's, not the command's.
		return nil, errors.New(err.Error())
	}
	return nil, nil
}

// restoreEvents turns package restore's reports into events, masked.
type restoreEvents struct {
	sink Sink
	mask func(string) string
}

func (r restoreEvents) Start(job restore.Job) {
	snap := job.Snapshot
	r.sink.Event(Event{Kind: Started, Service: job.Service.Name, Strategy: job.Service.Strategy, Snapshot: &snap})
}

func (r restoreEvents) Step(svc, msg string) {
	r.sink.Event(Event{Kind: Step, Service: svc, Message: r.mask(msg)})
}

func (r restoreEvents) Progress(svc string, s restic.RestoreStatus) {
	r.sink.Event(Event{Kind: Progress, Service: svc, Restore: &s})
}

func (r restoreEvents) Done(res report.Result) {
	out := masked(res, r.mask)
	r.sink.Event(Event{Kind: Done, Service: res.Service, Strategy: composeext.Strategy(res.Strategy), Result: &out})
}

// restorePlacements places each service of the stack for its restore: on node when
// the user named one, else on the node of its one running task. What cannot be
// restored there is a Placement.Refused line.
func restorePlacements(st *engine.Stack, runner *helper.Runner, node *engine.Node) func(composeext.ServicePlan) restore.Placement {
	return func(svc composeext.ServicePlan) restore.Placement {
		ss := st.Service(svc.Name)
		if ss == nil {
			return restore.Placement{Refused: fmt.Sprintf("stack %s has no service %s", st.Namespace, svc.Name)}
		}
		if svc.Strategy == composeext.StrategyDump {
			return dumpPlacement(*ss, runner, node)
		}
		if ss.Mode != engine.ModeReplicated {
			return restore.Placement{Refused: fmt.Sprintf("%s is a %s service, which cannot be scaled to 0 for the swap", ss.FullName, ss.Mode)}
		}
		if msg := refusedOnStack(*ss); msg != "" {
			return restore.Placement{Refused: msg}
		}
		for _, m := range svc.Volumes {
			if m.Type == "volume" && !slices.ContainsFunc(ss.Volumes, func(v engine.StackVolume) bool { return v.Name == m.Source && v.Local() }) {
				return restore.Placement{Refused: fmt.Sprintf("%s mounts no local volume %s", ss.FullName, m.Source)}
			}
		}
		n := node
		if n == nil {
			if len(ss.Tasks) == 0 || ss.Tasks[0].Node.ID == "" {
				return restore.Placement{Refused: fmt.Sprintf("%s has no running task: name the node to restore its volumes on with --node", ss.FullName)}
			}
			n = &ss.Tasks[0].Node
		}
		return restore.Placement{Node: n.ID, NodeName: n.Hostname, ServiceID: ss.ID, ServiceName: ss.FullName,
			Agent: runner.AgentOnNode(n.ID), Runner: runner.OnNode(n.ID)}
	}
}

// dumpPlacement places the restore of a dump service of the stack: into its one running
// task's container, on that task's node (a --node naming another is refused), where a
// job with that node's socket streams the dump into its restore command.
func dumpPlacement(ss engine.StackService, runner *helper.Runner, node *engine.Node) restore.Placement {
	if msg := refusedOnStack(ss); msg != "" {
		return restore.Placement{Refused: msg}
	}
	if len(ss.Tasks) == 0 || ss.Tasks[0].Node.ID == "" || ss.Tasks[0].ContainerID == "" {
		return restore.Placement{Refused: fmt.Sprintf("%s has no running task to restore its dump into", ss.FullName)}
	}
	t := ss.Tasks[0]
	if node != nil && node.ID != t.Node.ID {
		return restore.Placement{Refused: fmt.Sprintf("a dump is restored into the running task of %s, on %s: --node names %s", ss.FullName, t.Node.Hostname, node.Hostname)}
	}
	return restore.Placement{Node: t.Node.ID, NodeName: t.Node.Hostname, ServiceID: ss.ID, ServiceName: ss.FullName,
		Container: t.ContainerID, Runner: runner.OnNode(t.Node.ID)}
}
