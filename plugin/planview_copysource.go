package plugin

import (
	"fmt"
	"io"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// writeCopySource prints, for a copy that restic cannot read the primary for alone
// (two accounts of one backend), how it reads the primary:
//
//	primary    served by the agent (two s3: accounts: restic gets this copy's settings only)
func writeCopySource(tw io.Writer, primary composeext.Repository, c composeext.CopyPlan) {
	src := helper.Repo{URL: primary.URL, Local: primary.Local, Env: primary.Env}
	dst := helper.Repo{URL: c.Repository.URL, Local: c.Repository.Local, Env: c.Repository.Env}
	served, err := helper.NeedsServedSource(src, dst)
	switch {
	case err != nil:
		fmt.Fprintf(tw, "  primary\trefused: %v\n", err)
	case served:
		fmt.Fprintf(tw, "  primary\tserved by the agent (two %s: accounts: restic gets this copy's settings only)\n", helper.BackendType(dst))
	}
}
