package restore

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
)

// Describe says in one line what the job will replace, for the confirmation question.
func (j Job) Describe() string {
	svc := j.Service
	when := j.Snapshot.Time.Local().Format(time.DateTime)
	switch {
	case svc.Strategy == composeext.StrategyDump && j.To != "":
		return fmt.Sprintf("%s: load the dump of snapshot %s (%s) into service %s, replacing its data", svc.Name, j.Snapshot.ShortID, when, j.To)
	case svc.Strategy == composeext.StrategyDump:
		return fmt.Sprintf("%s: load the dump of snapshot %s (%s) into the running service, replacing its data", svc.Name, j.Snapshot.ShortID, when)
	case j.To != "":
		return fmt.Sprintf("%s: restore snapshot %s (%s) into %s, side by side (nothing of the service is touched)", svc.Name, j.Snapshot.ShortID, when, strings.Join(j.volumeNames(), ", "))
	default:
		return fmt.Sprintf("%s: stop the service and replace the content of %s with snapshot %s (%s)", svc.Name, strings.Join(j.volumeNames(), ", "), j.Snapshot.ShortID, when)
	}
}

// volumeNames are the volumes the job writes.
func (j Job) volumeNames() []string {
	var names []string
	for _, m := range j.Service.Volumes {
		switch {
		case j.To != "":
			names = append(names, SideBySideName(j.To, j.Service, m))
		default:
			names = append(names, m.Source)
		}
	}
	return names
}

// Steps lists what the job would do, for --dry-run.
func (j Job) Steps(opts Options) []string {
	svc := j.Service
	id := j.Snapshot.ShortID
	var s []string
	add := func(format string, args ...any) { s = append(s, svc.Name+": "+fmt.Sprintf(format, args...)) }
	add("snapshot %s of %s", id, j.Snapshot.Time.Local().Format(time.RFC3339))
	if svc.Strategy == composeext.StrategyDump {
		target := svc.Name
		if j.To != "" {
			target = j.To
		}
		add("run helper: restic dump %s %s", id, j.DumpPath)
		add("stream it into the restore command in the running container of %s (see docker backup plan %s)", target, svc.Name)
		return s
	}
	var paths []string
	for _, m := range svc.Volumes {
		paths = append(paths, "--include "+m.Path)
	}
	if j.To != "" {
		for _, m := range svc.Volumes {
			add("use volume %s (created if missing, must be empty) at %s", SideBySideName(j.To, svc, m), m.Path)
		}
		add("run helper: restic restore %s --target / %s --sparse --verify, and check its summary: every file, folder and byte it counted restored", id, strings.Join(paths, " "))
		return s
	}
	if opts.Stack {
		return append(s, j.stackSteps(opts)...)
	}
	for _, m := range svc.Volumes {
		add("create staging volume for %s at %s", m.Source, m.Path)
	}
	add("run helper (the first service's restore helper, before restic): check the live mounts and the free space; mark the staging volumes as this restore's")
	add("run helper: restic restore %s --target / %s --sparse --verify into the staging volumes (the service still runs), and check its summary: every file, folder and byte it counted restored", id, strings.Join(paths, " "))
	add("stop the service's running containers")
	add("run helper: check each staging volume still bears this restore's mark, then:")
	for _, m := range svc.Volumes {
		add("move the content of %s to a new rollback volume, then the staged content into it", m.Source)
	}
	add("start the stopped containers again and remove the staging volumes")
	if opts.NoRollback {
		add("remove the rollback volumes (--no-rollback)")
	} else {
		add("keep the rollback volumes, remove older rollback volumes of the same volumes")
	}
	return s
}

// stackSteps are the steps of an in-place volumes restore on a swarm stack.
func (j Job) stackSteps(opts Options) []string {
	svc := j.Service
	var s, paths []string
	add := func(format string, args ...any) { s = append(s, svc.Name+": "+fmt.Sprintf(format, args...)) }
	for _, m := range svc.Volumes {
		paths = append(paths, "--include "+m.Path)
	}
	add("on the node the service's task runs on (or --node), every helper a one-shot swarm service there:")
	add("run job: check the live volumes and the free space; create and mark the staging volumes")
	add("run job: restic restore %s --target / %s --sparse --verify into the staging volumes (the service still runs), and check its summary: every file, folder and byte it counted restored", j.Snapshot.ShortID, strings.Join(paths, " "))
	add("scale the swarm service to 0 (its count recorded on it) and wait for its tasks to end")
	add("run job: check each staging volume still bears this restore's mark, then move the live content of %s to new rollback volumes and the staged content in", strings.Join(j.volumeNames(), ", "))
	add("scale the swarm service back to its count")
	if opts.NoRollback {
		add("run job with the node's engine socket: remove the staging, records and rollback volumes (--no-rollback)")
	} else {
		add("run job with the node's engine socket: remove the staging and records volumes and older rollback volumes of the same volumes")
	}
	return s
}
