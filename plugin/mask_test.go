package plugin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// Every reporter of up (JSON, plain lines) shows a failed dump's error, its hooks' and
// its warnings masked: the password from the service's container and a DSN's.
func TestUpReportersMask(t *testing.T) {
	eng := enginetest.New(t)
	eng.AddContainer(enginetest.Seed{Name: "shop-db-1", Labels: map[string]string{engine.LabelProject: "shop", engine.LabelService: "db"},
		Config: &container.Config{Env: []string{"MYSQL_ROOT_PASSWORD=r00t-s3cret", "TZ=UTC"}}})
	plan := &composeext.Plan{Project: "shop", Services: []composeext.ServicePlan{{Name: "db", Strategy: composeext.StrategyDump, Dump: &composeext.DumpSpec{}}}}
	addContainerSecrets(context.Background(), eng, plan)
	failure := errors.New("dump command exited 1: r00t-s3cret\nconnecting to postgres://app:pw@db/app")
	res := backup.Result{Service: "db", Strategy: composeext.StrategyDump, Status: backup.StatusFailed, Err: failure,
		Warnings: []string{"post 1: r00t-s3cret"}, Hooks: []backup.HookResult{{Hook: "post 1", ExitCode: 1, Err: errors.New("said r00t-s3cret")}}}
	for _, jsonEvents := range []bool{true, false} {
		var out bytes.Buffer
		r := maskedUpReporter{inner: newReporter(Streams{Out: &out, Err: &out}, jsonEvents), mask: plan.Mask}
		r.Done(res)
		r.Warn("restic: postgres://app:pw@db/app r00t-s3cret")
		r.Finish([]backup.Result{res})
		if s := out.String(); strings.Contains(s, "r00t-s3cret") || strings.Contains(s, ":pw@") || !strings.Contains(s, "postgres://app:***@db/app") {
			t.Errorf("json %v shows a secret, or not the masked DSN:\n%s", jsonEvents, s)
		}
	}
	if !strings.Contains(res.Err.Error(), "r00t-s3cret") {
		t.Errorf("the result itself was changed: %v", res.Err)
	}
	err := maskError(&exitCodeError{code: ExitFailure, msg: "r00t-s3cret"}, plan.Mask)
	if err.Error() != "***" || exitCode(context.Background(), err) != ExitFailure {
		t.Errorf("maskError = %q (exit code %d)", err, exitCode(context.Background(), err))
	}
}
