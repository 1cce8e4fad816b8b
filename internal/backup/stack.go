package backup

import (
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/restic"
)

// Placement is where a service of a swarm stack is backed up: restic runs through
// Runner (jobs on the node that holds the service's task and volumes), and the
// snapshot is tagged with Node, the node's hostname. Refused, when set, says in one
// line why the service cannot be backed up on the stack: it fails, the others run.
type Placement struct {
	Runner  restic.Runner
	Node    string
	Refused string
	// ServiceID and ServiceName are the swarm service's (<stack>_<service>): a service
	// with stop: true is scaled to 0 for the copy and back.
	ServiceID, ServiceName string
}

// refusal says why svc is not backed up on a stack, or "": what this version does on
// a stack is a volumes service without hooks, with one task on one node.
func (p Placement) refusal(svc composeext.ServicePlan) string {
	var not []string
	if svc.Strategy == composeext.StrategyDump {
		not = append(not, "dumps")
	}
	if len(svc.Pre)+len(svc.Post)+len(svc.OnSuccess)+len(svc.OnFailure) > 0 {
		not = append(not, "hooks")
	}
	switch {
	case len(not) > 0:
		return fmt.Sprintf("service %s not backed up on a stack yet: %s", svc.Name, strings.Join(not, ", "))
	case p.Refused != "":
		return fmt.Sprintf("service %s not backed up on the stack: %s", svc.Name, p.Refused)
	case p.Runner == nil:
		return fmt.Sprintf("service %s not backed up on the stack: no node to run on", svc.Name)
	case svc.Stop && p.ServiceID == "":
		return fmt.Sprintf("service %s not backed up on the stack: no swarm service to scale to 0 for stop: true", svc.Name)
	}
	return ""
}
