package verify

import (
	"context"
	"maps"
	"strings"

	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/restore"
	"github.com/docker-backup/docker-backup/restic"
)

// throwaways are the containers and volumes one service's drill created: removed at its
// end, or kept (--keep).
type throwaways struct {
	env     Env
	service string
	keep    bool
	// containers and volumes are what exists, to remove.
	containers, volumes []string
}

// labels are a throwaway's labels: the run's (project, run, kind verify, service) and
// temporary, so that recovery removes those of a drill that was killed; with keep,
// kept instead, so that recovery leaves them to the user.
func (t *throwaways) labels() map[string]string {
	l := t.env.Run.Runner.Labels(t.service, Kind)
	maps.Copy(l, t.env.Run.TemporaryLabels(t.service))
	if t.keep {
		delete(l, helper.LabelTemporary)
		l[helper.LabelKept] = "true"
	}
	return l
}

// name is a new throwaway name: <project>-backup-verify-<service>-<random>.
func (t *throwaways) name() string { return t.env.Run.Runner.HelperName(Kind + "-" + t.service) }

// end removes the throwaways, even when ctx is done; with keep it returns the commands
// that remove them instead.
func (t *throwaways) end(ctx context.Context) []string {
	if t.keep {
		var kept []string
		if len(t.containers) > 0 {
			kept = append(kept, "docker rm -f "+strings.Join(t.containers, " "))
		}
		if len(t.volumes) > 0 {
			kept = append(kept, "docker volume rm "+strings.Join(t.volumes, " "))
		}
		return kept
	}
	cleanup := context.WithoutCancel(ctx)
	for _, c := range t.containers {
		_ = engine.RemoveContainer(cleanup, t.env.API, c)
	}
	_ = engine.RemoveVolumes(cleanup, t.env.API, t.volumes)
	t.containers, t.volumes = nil, nil
	return nil
}

// restoreEnv is the env of restore's steps, reporting their steps as the drill's.
func restoreEnv(env Env) restore.Env {
	return restore.Env{API: env.API, Runner: env.Runner, Identity: env.Identity, Plan: env.Plan,
		Reporter: steps{env.Reporter}, Run: env.Run, Location: env.Location}
}

// steps passes restore's steps on to the drill's reporter.
type steps struct{ r Reporter }

func (s steps) Start(restore.Job)                     {}
func (s steps) Step(service, message string)          { s.r.Step(service, message) }
func (s steps) Progress(string, restic.RestoreStatus) {}
func (s steps) Done(report.Result)                    {}
