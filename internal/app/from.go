package app

import (
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
)

// fromCopy returns the plan that reads the copy repository named from (x-backup.copies)
// in the place of the primary: restore, verify and snapshots --from NAME then open,
// lock, list and restore from it exactly as from the primary, with its URL, password
// and backend settings given to the helpers as the primary's are (files, never argv).
// The primary is not touched, nor needed: it may be gone. An empty from is the plan.
func fromCopy(plan *composeext.Plan, from string) (*composeext.Plan, error) {
	if from == "" {
		return plan, nil
	}
	c, ok := plan.Copy(from)
	if !ok {
		known := "it declares none"
		if names := plan.CopyNames(); len(names) > 0 {
			known = "its copies are " + strings.Join(names, ", ")
		}
		return nil, usageErrorf("%s", plan.KeyLine("x-backup.copies", "no copy named %s for --from: %s", from, known))
	}
	p := *plan
	p.Repository = c.Repository
	return &p, nil
}

// copyStackNeeds refuses a copy repository that the nodes of a swarm stack cannot all
// reach (a folder of one machine), as stackNeeds does the primary.
func copyStackNeeds(plan *composeext.Plan, from string) error {
	if from == "" || !plan.Repository.Local {
		return nil
	}
	return &composeext.InvalidError{Lines: []string{plan.KeyLine("x-backup.copies."+from+".repository",
		"%s is a folder of one machine, and %s is a swarm stack, whose helpers run on its nodes: use a repository every node reaches (s3:, sftp:, rest:…)",
		plan.Repository.Display, plan.Project)}}
}

// fromLine says, for the confirmation question and the dry run, which copy a restore
// reads; "" for the primary.
func fromLine(plan *composeext.Plan, from string) string {
	if from == "" {
		return ""
	}
	return "read the snapshots from copy " + from + " (" + plan.Repository.Where() + "), not from the primary repository"
}
