package plugin

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/run"
	"github.com/docker-backup/docker-backup/snapshot"
)

// session is what a command needs to work on a project's repository: the engine, the
// restic runner and whose snapshots they are.
type session struct {
	api      engine.API
	runner   *run.Runner
	identity snapshot.Identity
}

// connect opens the plan's repository for helpers and identifies this machine.
func connect(ctx context.Context, d *deps, plan *composeext.Plan) (*session, error) {
	repo, err := repository(ctx, plan, d.streams.Err)
	if err != nil {
		return nil, err
	}
	api, err := d.dockerClient()
	if err != nil {
		return nil, err
	}
	id, err := run.Identify(ctx, api, plan.Project, plan.Host)
	if err != nil {
		return nil, err
	}
	return &session{api: api, identity: id, runner: &run.Runner{
		API:     api,
		Image:   plan.Image,
		Project: plan.Project,
		Repo:    repo,
		// Settings of the engine side that belong to the machine, not to the project.
		Network:     d.getenv("DOCKER_BACKUP_NETWORK"),
		CacheVolume: d.getenv("DOCKER_BACKUP_CACHE_VOLUME"),
	}}, nil
}

// defaultWait is how long a run waits for another run of its project without --wait
// (the --wait flag's usage says "a minute").
const defaultWait = time.Minute

// runFlags are the flags of the commands that begin a run (up, restore, forget).
func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "wait", Usage: "Wait as long as another run of the project takes, instead of failing after a minute"},
		&cli.DurationFlag{Name: "retry-lock", Usage: "Wait up to this long for a repository lock held by someone else (restic's --retry-lock, e.g. 5m)"},
	}
}

// runSettings are the values of runFlags.
type runSettings struct {
	wait      bool
	retryLock time.Duration
}

func readRunSettings(c *cli.Context) runSettings {
	return runSettings{wait: c.Bool("wait"), retryLock: c.Duration("retry-lock")}
}

// begin begins a run of command on the session's project (package run).
func (s *session) begin(ctx context.Context, plan *composeext.Plan, command string, rs runSettings, initLocal bool, warn func(string)) (*run.Run, error) {
	s.runner.RetryLock = rs.retryLock
	wait := defaultWait
	if rs.wait {
		wait = -1
	}
	return run.Begin(ctx, run.Options{
		API: s.api, Identity: s.identity, Runner: s.runner,
		Command: command, Client: clientName(), AnchorImage: plan.Image,
		Wait: wait, InitLocal: initLocal, RepoDisplay: plan.Repository.Where(), Warn: warn,
	})
}

// clientName says who runs a command, for another run that has to wait: user@host pid N.
func clientName() string {
	host, _ := os.Hostname()
	name := "?"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}
