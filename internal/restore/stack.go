package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/restic"
)

// Placement is where a service of a swarm stack is restored: the node whose local
// volumes get the snapshot (where its task runs now, or a node named by the user),
// and the swarm service scaled to 0 for the swap alone.
type Placement struct {
	// Node is the node's ID, NodeName its hostname.
	Node, NodeName string
	// ServiceID and ServiceName are the swarm service (<stack>_<service>).
	ServiceID, ServiceName string
	// Agent runs the preflight, the swap and the removal of volumes as jobs on the
	// node; Runner runs restic there.
	Agent  *helper.NodeAgent
	Runner restic.Runner
	// Container is the task's container on the node, which a dump is restored into.
	Container string
	// Refused, when set, says in one line why the service is not restored there.
	Refused string
}

// refusal says why job cannot be restored on a stack, or "": this version restores a
// volumes service in place on one node.
func (p Placement) refusal(job Job) string {
	svc := job.Service
	switch {
	case job.To != "":
		return fmt.Sprintf("service %s: restore --to on a swarm stack is not supported yet", svc.Name)
	case p.Refused != "":
		return fmt.Sprintf("service %s not restored on the stack: %s", svc.Name, p.Refused)
	case svc.Strategy == composeext.StrategyDump && (p.Runner == nil || p.Container == ""):
		return fmt.Sprintf("service %s not restored on the stack: no running task to restore its dump into", svc.Name)
	case svc.Strategy != composeext.StrategyDump && (p.Agent == nil || p.Runner == nil):
		return fmt.Sprintf("service %s not restored on the stack: no node to restore on", svc.Name)
	}
	return ""
}

// runStack is Run on a swarm stack (env.Place set): each job's place is found, and
// every refusal made, before anything changes; then the jobs run one after the other
// on their nodes (restoreOnNode), stopping at the first failure.
func runStack(ctx context.Context, env Env, jobs []Job, opts Options) []report.Result {
	places := make([]Placement, len(jobs))
	for i, job := range jobs {
		places[i] = env.Place(job.Service)
		if msg := places[i].refusal(job); msg != "" {
			env.Reporter.Start(job)
			res := report.Result{Service: job.Service.Name, Strategy: string(job.Service.Strategy), Snapshot: job.Snapshot.ID,
				Status: report.StatusFailed, Err: fmt.Errorf("%w: %s", ErrStackRefused, msg)}
			env.Reporter.Done(res)
			return []report.Result{res}
		}
	}
	return runEach(ctx, env, jobs, func(i int, job Job, res *report.Result) error {
		if job.Service.Strategy == composeext.StrategyDump {
			res.Node = places[i].NodeName
			return restoreDumpOnNode(ctx, env, job, places[i], res)
		}
		return restoreOnNode(ctx, env, job, places[i], opts, res)
	})
}

// ErrStackRefused is a restore on a swarm stack that this version does not do.
var ErrStackRefused = errors.New("refused on a swarm stack")

// restoreOnNode restores a volumes service of a stack on the node p names, as
// restoreVolumes does on one engine, with every helper a job on that node: the
// snapshot is restored into staging volumes there and verified while the service
// still runs; only then is the swarm service scaled to 0 (its count recorded on it,
// engine.ScaleToZero), its tasks awaited, and one swap job moves the live content to
// a rollback volume and the staged content in; the service is scaled back whatever
// happens (Ctrl-C included), unless the swap could be brought neither to all old nor
// to all new: then it stays at 0 and the staging volumes stay on the node.
func restoreOnNode(ctx context.Context, env Env, job Job, p Placement, opts Options, res *report.Result) (err error) {
	svc := job.Service
	res.Node = p.NodeName
	files, err := fileMounts(ctx, env, job)
	if err != nil {
		return err
	}
	st := newStaging(env, svc, files)
	at := &nodeSite{agent: p.Agent, service: svc.Name, labels: map[string]map[string]string{}, env: env}
	for _, name := range st.volumes {
		l := env.Run.TemporaryLabels(svc.Name)
		l[LabelStaging] = env.Plan.Project + "/" + svc.Name + "/" + st.key(svc, name)
		at.labels[name] = l
	}
	// Removed on the node at the end, whatever happens, but when a swap must be
	// finished from them.
	cleanup, keep := slices.Clone(st.volumes), false
	defer func() {
		if !keep {
			at.removeVolumes(ctx, cleanup)
		}
	}()

	env.Reporter.Step(svc.Name, fmt.Sprintf("on node %s: checking the live volumes and the free space, marking the staging volume(s) %s", p.NodeName, strings.Join(st.volumes, ", ")))
	if err := preflight(ctx, env, at, job, st); err != nil {
		return err
	}
	env.Reporter.Step(svc.Name, fmt.Sprintf("on node %s: restoring snapshot %s into the staging volume(s)", p.NodeName, job.Snapshot.ShortID))
	var includes []string
	for _, m := range svc.Volumes {
		includes = append(includes, m.Path)
	}
	onNode := env
	onNode.Runner = p.Runner
	if _, err := restoreAndVerify(ctx, onNode, job, includes, st.resticMounts(svc), restic.RestoreOptions{}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	env.Reporter.Step(svc.Name, fmt.Sprintf("scaling %s to 0 for the swap", p.ServiceName))
	from, err := engine.ScaleToZero(ctx, env.API, p.ServiceID, env.Run.ID)
	if err != nil {
		return err
	}
	scaledBack := false
	scaleBack := func() error {
		if scaledBack {
			return nil
		}
		scaledBack = true
		if _, err := engine.ScaleBack(context.WithoutCancel(ctx), env.API, p.ServiceID, env.Run.ID); err != nil {
			return fmt.Errorf("scaling %s back to %d: %w", p.ServiceName, from, err)
		}
		return nil
	}
	defer func() {
		if serr := scaleBack(); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := engine.WaitTasksEnded(ctx, env.API, p.ServiceID, env.Poll); err != nil {
		return err
	}

	rollback := make([]string, len(svc.Volumes))
	for i, m := range svc.Volumes {
		rollback[i] = liveBase(env.Plan.Project, svc, m) + "-rollback-" + st.stamp
	}
	env.Reporter.Step(svc.Name, fmt.Sprintf("on node %s: replacing the live content (previous content to %s)", p.NodeName, strings.Join(rollback, ", ")))
	// Once begun, the swap runs to its end even on Ctrl-C (see restoreVolumes).
	sw, err := swap(context.WithoutCancel(ctx), env, at, svc, st, rollback)
	if sw.keep {
		// Neither all old nor all new: the service must not run on it, and no
		// recovery may scale it back either.
		keep, scaledBack = true, true
		if _, ferr := engine.ForgetScaled(context.WithoutCancel(ctx), env.API, p.ServiceID); ferr != nil {
			return fmt.Errorf("%w; and %w", err, ferr)
		}
		return fmt.Errorf("%w (on node %s; %s stays at 0 replicas, it had %d: scale it back once its volumes are sorted)", err, p.NodeName, p.ServiceName, from)
	}
	if sw.records != "" {
		cleanup = append(cleanup, sw.records)
	}
	if err != nil {
		return err
	}
	for _, m := range svc.Volumes {
		res.Volumes = append(res.Volumes, m.Source)
	}
	if err := scaleBack(); err != nil {
		return err
	}
	// The staging and records volumes go, and the older rollback volumes of the same
	// live volumes (the new ones too with --no-rollback), in one job.
	spec := agent.NodeVolumesSpec{Remove: cleanup}
	for _, m := range svc.Volumes {
		spec.Labelled = append(spec.Labelled, LabelRollback+"="+m.Source)
	}
	if opts.NoRollback {
		spec.Remove = append(spec.Remove, rollback...)
	} else {
		spec.Keep = rollback
		res.Rollbacks = rollback
	}
	keep = true // removed here
	if err := p.Agent.RemoveVolumes(context.WithoutCancel(ctx), svc.Name, spec); err != nil {
		env.Reporter.Step(svc.Name, fmt.Sprintf("restored, but not every volume of the restore was removed on node %s: %v", p.NodeName, err))
	}
	return nil
}

// nodeSite is a swarm node: helpers are jobs there, and the volumes they mount are
// created by the node's engine with the labels the restore gives them.
type nodeSite struct {
	agent   *helper.NodeAgent
	service string
	// labels are the labels of the volumes the restore creates on the node, by name.
	labels map[string]map[string]string
	env    Env
}

func (n *nodeSite) runAgent(ctx context.Context, call helper.AgentCall) (int, string, error) {
	call.VolumeLabels = n.labels
	return n.agent.RunAgent(ctx, call)
}

// createRecords labels the swap's records and rollback volumes, which the swap job
// creates on the node as it mounts them.
func (n *nodeSite) createRecords(_ context.Context, s helper.Swap) error {
	targets, err := json.Marshal(s.Targets)
	if err != nil {
		return fmt.Errorf("recording the swap: %w", err)
	}
	l := n.env.Run.TemporaryLabels(s.Service)
	l[helper.LabelSwap] = s.Nonce
	l[helper.LabelSwapTargets] = string(targets)
	n.labels[s.Records] = l
	for _, t := range s.Targets {
		rl := n.env.Run.VolumeLabels(s.Service)
		rl[LabelRollback] = t.Live
		n.labels[t.Rollback] = rl
	}
	return nil
}

func (n *nodeSite) runSwap(ctx context.Context, s helper.Swap) (helper.SwapOutcome, error) {
	return n.agent.RunSwap(ctx, s, false, maps.Clone(n.labels))
}

func (n *nodeSite) removeVolumes(ctx context.Context, names []string) {
	if len(names) == 0 {
		return
	}
	_ = n.agent.RemoveVolumes(context.WithoutCancel(ctx), n.service, agent.NodeVolumesSpec{Remove: names})
}
