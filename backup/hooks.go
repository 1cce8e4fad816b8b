package backup

import (
	"context"
	"fmt"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
)

// runHooks runs pre or post commands in the service's running container, in order; the
// first failure stops them.
func runHooks(ctx context.Context, api engine.API, project string, svc composeext.ServicePlan, which string, hooks [][]string) error {
	if len(hooks) == 0 {
		return nil
	}
	c, err := engine.RunningContainer(ctx, api, project, svc.Name)
	if err != nil {
		return fmt.Errorf("running %s hooks: %w", which, err)
	}
	// Hooks are named by their position: interpolation may have put a secret in the command.
	for i, cmd := range hooks {
		stderr := &engine.Tail{Max: 2048}
		code, err := engine.Exec(ctx, api, c.ID, engine.ExecSpec{Cmd: cmd, Stderr: stderr})
		if err != nil {
			return fmt.Errorf("%s hook %d: %w", which, i+1, err)
		}
		if code != 0 {
			return fmt.Errorf("%s hook %d exited with code %d%s", which, i+1, code, stderr.Suffix())
		}
	}
	return nil
}
