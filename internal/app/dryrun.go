package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/backup"
	"github.com/docker-backup/docker-backup/restic"
)

// dryRunMachine stands for this machine's name in the snapshots' host: a dry run does
// not contact the engine, which names it.
const dryRunMachine = "<this machine>"

// DryRun says, one line each, what up would do of the named services (all when none),
// without touching the engine or the repository: the restic commands are built as the
// backup builds them (backup.ResticOptions, restic.BackupArgs), secrets masked.
func (a *App) DryRun(ctx context.Context, load composeext.LoadOptions, services []string) ([]string, error) {
	plan, err := LoadPlan(ctx, load, services)
	if err != nil {
		return nil, err
	}
	plan = plan.Masked()
	host := plan.Project + "@" + dryRunMachine
	lines := []string{fmt.Sprintf("repository %s, helper image %s, snapshots of host %s", plan.Repository.Where(), plan.Image, host)}
	say := func(svc, format string, args ...any) { lines = append(lines, svc+": "+fmt.Sprintf(format, args...)) }
	for _, s := range plan.Services {
		switch s.Strategy {
		case composeext.StrategyNone:
			say(s.Name, "skipped (strategy none)")
		case composeext.StrategyVolumes:
			if s.Stop {
				say(s.Name, "stop the service's containers")
			}
			for _, m := range s.Volumes {
				say(s.Name, "mount %s %s read-only at %s", m.Type, m.Source, m.Path)
			}
			say(s.Name, "run helper: restic %s", strings.Join(restic.BackupArgs(backup.ResticOptions(s, host, "")), " "))
			if s.Stop {
				say(s.Name, "start the service's containers again")
			}
		case composeext.StrategyDump:
			say(s.Name, "exec in the service container: %s", shortCommand(s.Dump.Command))
			say(s.Name, "run helper: restic %s (committed only when the dump exited 0 and is whole)",
				strings.Join(restic.BackupArgs(backup.ResticOptions(s, host, "")), " "))
		}
	}
	return lines, nil
}

// shortCommand shows a command briefly: the script of `sh -c`, else the argv.
func shortCommand(cmd []string) string {
	if len(cmd) == 3 && cmd[1] == "-c" {
		return cmd[2]
	}
	return strings.Join(cmd, " ")
}
