package backup

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/restic"
)

// Placement is where a service of a swarm stack is backed up: restic runs through
// Runner (jobs on the node that holds the service's task and volumes), and the
// snapshot is tagged with Node, the node's hostname. Container is the task's container
// on that node, which a dump execs in. Refused, when set, says in one line why the
// service cannot be backed up on the stack: it fails, the others run.
type Placement struct {
	Runner    restic.Runner
	Node      string
	Container string
	// Hook runs a hook command in container on the node (a job with the node's socket)
	// and returns its exit code and the tail of its stderr.
	Hook    func(ctx context.Context, container string, cmd []string) (int, string, error)
	Refused string
	// ServiceID and ServiceName are the swarm service's (<stack>_<service>): a service
	// with stop: true is scaled to 0 for the copy and back.
	ServiceID, ServiceName string
	// LocalVolumes are the local volumes the service's task mounts on Node: they stay on
	// the node when swarm moves the task (a dump's database among them).
	LocalVolumes []string
}

// refusal says why svc is not backed up on a stack, or "": what this version does on
// a stack is a volumes service (scaled to 0 for stop: true) or a dump, with its
// hooks, with one task on one node.
func (p Placement) refusal(svc composeext.ServicePlan) string {
	switch {
	case p.Refused != "":
		return fmt.Sprintf("service %s not backed up on the stack: %s", svc.Name, p.Refused)
	case p.Runner == nil:
		return fmt.Sprintf("service %s not backed up on the stack: no node to run on", svc.Name)
	case svc.Stop && p.ServiceID == "":
		return fmt.Sprintf("service %s not backed up on the stack: no swarm service to scale to 0 for stop: true", svc.Name)
	}
	return ""
}
