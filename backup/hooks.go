package backup

import (
	"context"
	"fmt"
	"strings"

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
		stderr := &tail{max: 2048}
		code, err := engine.Exec(ctx, api, c.ID, engine.ExecSpec{Cmd: cmd, Stderr: stderr})
		if err != nil {
			return fmt.Errorf("%s hook %d: %w", which, i+1, err)
		}
		if code != 0 {
			return fmt.Errorf("%s hook %d exited with code %d%s", which, i+1, code, stderr.suffix())
		}
	}
	return nil
}

// tail keeps the last max bytes written to it: the end of a command's stderr.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// suffix is ": <last stderr lines>" for an error message, or "" when stderr was empty.
func (t *tail) suffix() string {
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return ": " + strings.Join(lines, " | ")
}
