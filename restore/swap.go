package restore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/run"
)

// Labels restore puts on the volumes it creates, besides the run's.
const (
	// LabelStaging marks a staging volume: <project>/<service>/<key>.
	LabelStaging = "io.docker-backup.staging"
	// LabelRollback marks a rollback volume with the live volume (or host folder) whose
	// previous content it keeps.
	LabelRollback = "io.docker-backup.rollback"
)

// busybox is the shell and copy tool of the helper image: the Alpine-based restic/restic
// has it, and so does the e2e image.
const busybox = "/bin/busybox"

// Exit codes of the swap script.
const (
	swapRollbackCopyFailed = 2 // copying live to rollback failed: live untouched
	swapPutBack            = 3 // replacing failed, the previous content was put back
	swapPutBackFailed      = 4 // replacing failed and so did putting the previous content back
)

// swapScript copies each /live/N to /rollback/N, then replaces /live/N's content with
// /staging/N's. cp -a keeps owners, modes, times and links. If replacing fails, the
// previous content is put back from the rollback copy.
const swapScript = `set -u
bb=` + busybox + `
wipe() { $bb rm -rf "$1"/* "$1"/.[!.]* "$1"/..?*; }
for i in $MOUNTS; do
  $bb cp -a /live/$i/. /rollback/$i/ || { echo "copying the live content to the rollback volume failed" >&2; exit 2; }
done
for i in $MOUNTS; do
  if ! { wipe /live/$i && $bb cp -a /staging/$i/. /live/$i/; }; then
    echo "replacing the live content failed: putting the previous content back" >&2
    for j in $MOUNTS; do { wipe /live/$j && $bb cp -a /rollback/$j/. /live/$j/; } || exit 4; done
    exit 3
  fi
done
$bb sync
`

// swap runs the swap helper with the live, staging and rollback volumes mounted.
func swap(ctx context.Context, env Env, svc composeext.ServicePlan, staging, rollback []string) error {
	var mounts []mount.Mount
	var idx []string
	for i, m := range svc.Volumes {
		n := strconv.Itoa(i)
		idx = append(idx, n)
		mounts = append(mounts,
			mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: "/live/" + n},
			mount.Mount{Type: mount.TypeVolume, Source: staging[i], Target: "/staging/" + n, ReadOnly: true},
			mount.Mount{Type: mount.TypeVolume, Source: rollback[i], Target: "/rollback/" + n})
	}
	code, stderr, err := runShell(ctx, env, svc.Name, "restore-swap", swapScript, []string{"MOUNTS=" + strings.Join(idx, " ")}, mounts)
	switch {
	case err != nil:
		return fmt.Errorf("replacing the live content (previous content in %s): %w", strings.Join(rollback, ", "), err)
	case code == 0:
		return nil
	case code == swapRollbackCopyFailed || code == swapPutBack:
		_ = engine.RemoveVolumes(context.WithoutCancel(ctx), env.API, rollback)
		return fmt.Errorf("replacing the live content failed, it is unchanged (exit code %d)%s", code, stderr)
	default:
		return fmt.Errorf("replacing the live content failed (exit code %d)%s: the previous content is in %s", code, stderr, strings.Join(rollback, ", "))
	}
}

// checkEmpty fails unless the volume holds nothing.
func checkEmpty(ctx context.Context, env Env, service, name string) error {
	script := `[ -z "$(` + busybox + ` ls -A /target)" ]`
	code, stderr, err := runShell(ctx, env, service, "restore-check", script, nil,
		[]mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/target", ReadOnly: true}})
	switch {
	case err != nil:
		return fmt.Errorf("looking into volume %s: %w", name, err)
	case code == 1:
		return fmt.Errorf("volume %s is not empty: --to restores into a new or empty volume", name)
	case code != 0:
		return fmt.Errorf("looking into volume %s: exit code %d%s", name, code, stderr)
	}
	return nil
}

// runShell runs a busybox shell script in a helper of the run that has no network and
// returns its exit code and the tail of its stderr as ": …" (or "").
func runShell(ctx context.Context, env Env, service, kind, script string, vars []string, mounts []mount.Mount) (int, string, error) {
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, env.API, engine.HelperSpec{
		Name:        env.Run.HelperName(service + "-" + kind),
		Image:       env.Plan.Image,
		Entrypoint:  []string{busybox},
		Cmd:         []string{"sh", "-c", script},
		Env:         vars,
		Mounts:      mounts,
		Labels:      env.Run.Labels(service, kind),
		NetworkMode: "none",
		Stderr:      stderr,
	})
	return code, stderr.Suffix(), err
}

// removeOldRollbacks removes the rollback volumes of a live volume but keep.
func removeOldRollbacks(ctx context.Context, env Env, live, keep string) {
	vs, err := engine.VolumesWithLabels(ctx, env.API, LabelRollback+"="+live, run.LabelProject+"="+env.Plan.Project)
	if err != nil {
		return
	}
	for _, v := range vs {
		if v.Name != keep {
			_ = engine.RemoveVolume(ctx, env.API, v.Name)
		}
	}
}
