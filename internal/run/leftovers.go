package run

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// Leftovers are what dead runs of a project left behind, as a command that changes
// nothing (snapshots, status, check) sees them. Such a command must not recover them:
// recovery belongs to the holder of the project's anchor. It names them instead, with
// the commands that do recover (see Message).
type Leftovers struct {
	Project string
	// Runs are the dead runs that left something, as "command, run ID" (or "run ID"
	// when the command is not known any more), sorted.
	Runs []string
	// Stopped are the services whose containers a dead run stopped and left stopped.
	Stopped []string
	// Scaled are the swarm stack's services a dead run scaled to 0 and left so.
	Scaled []string
	// Copies are the services of a restore drill's throwaway containers (verify).
	Copies []string
	// Helpers, Staging and Throwaway count helper containers, a restore's staging
	// volumes and a drill's throwaway volumes.
	Helpers, Staging, Throwaway int
	// Jobs counts the swarm services of dead runs' helpers on a stack (FindStackLeftovers).
	Jobs int
}

// FindLeftovers looks, without changing anything, for what dead runs of project left:
// containers they stopped, a stack's services they scaled to 0 (on a swarm manager),
// their helpers, throwaway copies and temporary volumes. What
// a user kept (verify --keep) and rollback volumes (the previous data) are not
// leftovers. It may run while a run of the project is live: what belongs to the run
// that holds the anchor is never counted (see liveRuns).
func FindLeftovers(ctx context.Context, api engine.API, project string) (Leftovers, error) {
	left := Leftovers{Project: project}
	live, commands, err := liveRuns(ctx, api, project)
	if err != nil {
		return left, err
	}
	cs, vs, err := owned(ctx, api, project)
	if err != nil {
		return left, err
	}
	mgr := manager(ctx, api)
	scaled := scaledServices(ctx, api, project, mgr)
	// The anchor again: a run that began while we listed is live too.
	after, more, err := liveRuns(ctx, api, project)
	if err != nil {
		return left, err
	}
	for id := range after {
		live[id] = true
	}
	for id, c := range more {
		commands[id] = c
	}
	// A run that began and ended between the two looks at the anchor removed what it
	// made: only what is still there at a second listing is left behind.
	cs2, vs2, err := owned(ctx, api, project)
	if err != nil {
		return left, err
	}
	scaled2 := scaledServices(ctx, api, project, mgr)
	// A container or volume without a run is a read-only command's helper; a live
	// run's is its work; a kept one the user's to remove.
	dead := func(labels map[string]string) bool {
		id := labels[helper.LabelRun]
		return id != "" && !live[id] && labels[helper.LabelKept] == ""
	}
	runs := map[string]bool{}
	for _, c := range cs {
		if c.Labels[helper.LabelKind] == helper.KindAnchor || !slices.ContainsFunc(cs2, func(o engine.Owned) bool { return o.ID == c.ID }) || !dead(c.Labels) {
			continue
		}
		runs[c.Labels[helper.LabelRun]] = true
		if c.Labels[helper.LabelTemporary] != "" {
			left.Copies = appendNew(left.Copies, c.Labels[helper.LabelService])
			inferCommand(commands, c.Labels[helper.LabelRun], "verify")
			continue
		}
		left.Helpers++
	}
	for _, v := range vs {
		if !slices.ContainsFunc(vs2, func(o engine.Volume) bool { return o.Name == v.Name }) || !dead(v.Labels) {
			continue
		}
		id := v.Labels[helper.LabelRun]
		switch {
		case v.Labels[helper.LabelStopped] != "":
			// The run may have died before its stop began: the record alone is
			// nothing the user would notice.
			st, found, err := engine.InspectState(ctx, api, v.Labels[helper.LabelStopped])
			if err != nil {
				return left, err
			}
			if !found || st.Status == "running" || st.Status == "restarting" {
				continue
			}
			runs[id] = true
			left.Stopped = appendNew(left.Stopped, v.Labels[helper.LabelService])
		case v.Labels[helper.LabelTemporary] == "":
			// A rollback volume: the user's previous data, kept on purpose.
		case v.Labels[helper.LabelKind] != "":
			runs[id] = true
			left.Throwaway++
			inferCommand(commands, id, "verify")
		default:
			runs[id] = true
			left.Staging++
			inferCommand(commands, id, "restore")
		}
	}
	for _, sc := range scaled {
		if live[sc.Run] || !slices.ContainsFunc(scaled2, func(o engine.ScaledService) bool { return o.ID == sc.ID && o.Run == sc.Run }) {
			continue
		}
		runs[sc.Run] = true
		left.Scaled = appendNew(left.Scaled, strings.TrimPrefix(sc.Name, project+"_"))
	}
	left.Runs = describeRuns(runs, commands)
	slices.Sort(left.Scaled)
	slices.Sort(left.Stopped)
	slices.Sort(left.Copies)
	return left, nil
}

// liveRuns inspects the project's anchor: the run it names is live if the anchor is
// alive (see alive), dead otherwise. commands are the anchor's command, by run.
func liveRuns(ctx context.Context, api engine.API, project string) (live map[string]bool, commands map[string]string, err error) {
	live, commands = map[string]bool{}, map[string]string{}
	st, found, err := engine.InspectState(ctx, api, anchorName(project))
	if err != nil || !found {
		return live, commands, err
	}
	id := st.Labels[helper.LabelRun]
	commands[id] = st.Labels[helper.LabelCommand]
	if alive(st) {
		live[id] = true
	}
	return live, commands, nil
}

// owned lists the containers and the run volumes that carry the project's label.
func owned(ctx context.Context, api engine.API, project string) ([]engine.Owned, []engine.Volume, error) {
	cs, err := engine.ContainersWithLabels(ctx, api, helper.LabelProject+"="+project)
	if err != nil {
		return nil, nil, fmt.Errorf("looking for what earlier runs left: %w", err)
	}
	vs, err := engine.VolumesWithLabels(ctx, api, helper.LabelProject+"="+project, helper.LabelRun)
	if err != nil {
		return nil, nil, fmt.Errorf("looking for what earlier runs left: %w", err)
	}
	return cs, vs, nil
}

// scaledServices are the project's stack services a run scaled to 0, on a swarm
// manager (mgr); none elsewhere, nor where the swarm cannot be listed (a socket proxy
// that allows no swarm call): a command that changes nothing does not fail on them.
func scaledServices(ctx context.Context, api engine.API, project string, mgr bool) []engine.ScaledService {
	if !mgr {
		return nil
	}
	all, err := engine.ScaledServices(ctx, api)
	if err != nil {
		return nil
	}
	var out []engine.ScaledService
	for _, s := range all {
		if s.Namespace == project {
			out = append(out, s)
		}
	}
	return out
}

// inferCommand names a dead run's command from what it made, when its anchor is gone.
func inferCommand(commands map[string]string, id, command string) {
	if commands[id] == "" {
		commands[id] = command
	}
}

// describeRuns names the dead runs as "command, run ID", sorted.
func describeRuns(runs map[string]bool, commands map[string]string) []string {
	var out []string
	for id := range runs {
		if c := commands[id]; c != "" {
			out = append(out, c+", run "+id)
		} else {
			out = append(out, "run "+id)
		}
	}
	slices.Sort(out)
	return out
}

// Empty reports whether no dead run left anything.
func (l Leftovers) Empty() bool { return len(l.Runs) == 0 }

// RecoveringCommands are the commands that begin a run, and so recover dead runs first.
const RecoveringCommands = "docker backup up, restore, verify or forget"

// Message says in one line what the dead runs left and which commands finish their
// work, e.g. "a dead run (restore, run 1a2b3c4d5e) of project shop left service files
// stopped and 2 staging volumes: the next docker backup up, restore, verify or forget
// of the project starts files again and removes the rest". It names services, counts
// and run IDs only: nothing of a configuration, so nothing secret.
func (l Leftovers) Message() string {
	if l.Empty() {
		return ""
	}
	who := "a dead run (" + l.Runs[0] + ")"
	if len(l.Runs) > 1 {
		who = "dead runs (" + strings.Join(l.Runs, "; ") + ")"
	}
	var parts []string
	if len(l.Stopped) > 0 {
		parts = append(parts, plural(len(l.Stopped), "service", "services")+" "+and(l.Stopped)+" stopped")
	}
	if len(l.Scaled) > 0 {
		parts = append(parts, plural(len(l.Scaled), "service", "services")+" "+and(l.Scaled)+" scaled to 0")
	}
	if len(l.Copies) > 0 {
		parts = append(parts, fmt.Sprintf("a throwaway copy of %s %s", plural(len(l.Copies), "service", "services"), and(l.Copies)))
	}
	removed := len(l.Copies)
	for _, c := range []struct {
		n         int
		one, many string
	}{{l.Helpers, "helper container", "helper containers"}, {l.Jobs, "swarm job", "swarm jobs"}, {l.Staging, "staging volume", "staging volumes"}, {l.Throwaway, "throwaway volume", "throwaway volumes"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, plural(c.n, c.one, c.many)))
			removed += c.n
		}
	}
	var does []string
	if len(l.Stopped) > 0 {
		does = append(does, "starts "+and(l.Stopped)+" again")
	}
	if len(l.Scaled) > 0 {
		does = append(does, "scales "+and(l.Scaled)+" back")
	}
	switch {
	case len(does) > 0 && removed > 0:
		does = append(does, "removes the rest")
	case len(does) > 0:
	case removed == 1:
		does = append(does, "removes it")
	default:
		does = append(does, "removes them")
	}
	return fmt.Sprintf("%s of project %s left %s: the next %s of the project %s", who, l.Project, and(parts), RecoveringCommands, and(does))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// and joins words as "a", "a and b", "a, b and c".
func and(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
