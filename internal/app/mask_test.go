package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/report"
)

// Up's events show a failed dump's error, its hooks' and its warnings masked: the
// password from the service's container and a DSN's.
func TestUpEventsMask(t *testing.T) {
	eng := enginetest.New(t)
	eng.AddContainer(enginetest.Seed{Name: "shop-db-1", Labels: map[string]string{engine.LabelProject: "shop", engine.LabelService: "db"},
		Config: &container.Config{Env: []string{"MYSQL_ROOT_PASSWORD=r00t-s3cret", "TZ=UTC"}}})
	plan := &composeext.Plan{Project: "shop", Services: []composeext.ServicePlan{{Name: "db", Strategy: composeext.StrategyDump, Dump: &composeext.DumpSpec{}}}}
	addContainerSecrets(context.Background(), eng, plan)
	failure := errors.New("dump command exited 1: r00t-s3cret\nconnecting to postgres://app:pw@db/app")
	res := report.Result{Service: "db", Strategy: string(composeext.StrategyDump), Status: report.StatusFailed, Err: failure,
		Warnings: []string{"post 1: r00t-s3cret"}, Hooks: []report.HookResult{{Hook: "post 1", ExitCode: 1, Err: errors.New("said r00t-s3cret")}}}
	var shown []string
	sink := SinkFunc(func(e Event) {
		switch {
		case e.Result != nil:
			r := e.Result
			shown = append(shown, r.Err.Error(), r.Report().Error, r.Hooks[0].Err.Error())
			shown = append(shown, r.Warnings...)
		default:
			shown = append(shown, e.Message)
		}
	})
	events := backupEvents{sink: sink, mask: plan.Mask}
	events.Done(res)
	events.Warn("restic: postgres://app:pw@db/app r00t-s3cret")
	if s := strings.Join(shown, "\n"); strings.Contains(s, "r00t-s3cret") || strings.Contains(s, ":pw@") || !strings.Contains(s, "postgres://app:***@db/app") {
		t.Errorf("the events show a secret, or not the masked DSN:\n%s", s)
	}
	if !strings.Contains(res.Err.Error(), "r00t-s3cret") {
		t.Errorf("the result itself was changed: %v", res.Err)
	}
	err := maskError(usageErrorf("r00t-s3cret"), plan.Mask)
	if err.Error() != "***" || !errors.Is(err, ErrUsage) {
		t.Errorf("maskError = %q (a usage error: %v)", err, errors.Is(err, ErrUsage))
	}
}

// A drill's failure and detail are masked as they leave app.
func TestVerifyResultMasks(t *testing.T) {
	plan := &composeext.Plan{Project: "shop", Secrets: []string{"hunter2"}}
	r := masked(report.Result{Service: "old", Status: report.StatusFailed, Detail: "as hunter2",
		Err: errors.New("syntax error (password hunter2)")}, plan.Mask)
	if r.Err.Error() != "syntax error (password ***)" || r.Detail != "as ***" {
		t.Errorf("result %+v", r)
	}
}
