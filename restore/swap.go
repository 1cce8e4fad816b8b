package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	swapNotStaged          = 5 // a staging volume lacks this restore's marker: live untouched
)

// swapScript checks every staging volume for this restore's marker before anything is
// changed: a staging volume removed since (a prune, someone's cleanup) is re-created
// empty by the engine when mounted by name, and would wipe the live content. Then it
// copies each live mount to its rollback volume, and replaces each live mount's content
// with the staged one. cp -a keeps owners, modes, times and links; find hands rm the
// entries in batches, so any number of them is fine. A bind-mounted file is rewritten in
// place (the service's bind mount holds its inode). If replacing fails, what was
// replaced is put back from the rollback copy. On exit codes 4 and 5 it prints the
// numbers of the mounts concerned.
//
// A folder mount's KEEP_<n> (Mount.Keep: the repository, a compose file, what an
// exclude names) lists paths that are neither wiped nor replaced: the staged copies of
// them (an old snapshot may hold them) are dropped first, and the rollback copy leaves
// out those at the top level (a nested one is copied, to no harm).
const swapScript = `set -u
bb=` + busybox + `
m=.docker-backup-staged-$NONCE
wipe() { $bb find "$1" -mindepth 1 -maxdepth 1 -exec $bb rm -rf {} + && [ -z "$($bb find "$1" -mindepth 1 -maxdepth 1 | $bb head -n 1)" ]; }
putfile() { $bb cat "$1" > "$2" && $bb chown "$($bb stat -c %u:%g "$1")" "$2" && $bb chmod "$($bb stat -c %a "$1")" "$2" && $bb touch -r "$1" "$2"; }
kind() { eval "echo \$KIND_$1"; }
base() { eval "echo \"\$BASE_$1\""; }
keep() { eval "echo \"\${KEEP_$1:-}\""; }
nl='
'
# wipekeep DIR KEEP: wipe DIR but the newline-separated paths KEEP (and their parents).
wipekeep() {
  d=$1 k=$2; IFS=$nl; set --; for p in $k; do set -- "$@" -o -path "$d/$p"; done; unset IFS; shift
  $bb find "$d" -mindepth 1 \( "$@" \) -prune -o ! -type d -exec $bb rm -f {} + || return 1
  IFS=$nl; set --; for p in $k; do set -- "$@" ! -path "$d/$p" ! -path "$d/$p/*"; done; unset IFS
  $bb find "$d" -mindepth 1 -depth -type d "$@" -exec $bb rmdir {} + 2>/dev/null
  return 0
}
# rollbackkeep N: copy /live/N to /rollback/N but its kept top-level entries.
rollbackkeep() {
  n=$1 k=$(keep $1); IFS=$nl; set --; for p in $k; do set -- "$@" ! -path "/live/$n/$p"; done; unset IFS
  $bb find /live/$n -mindepth 1 -maxdepth 1 "$@" -exec $bb sh -c '/bin/busybox cp -a "$@" "$0"' /rollback/$n/ {} +
}
put() {
  k=$(keep $1)
  if [ "$(kind $1)" = file ]; then putfile "/$2/$1/$(base $1)" /live/$1
  elif [ -n "$k" ]; then
    if [ $2 = staging ]; then IFS=$nl; for p in $k; do $bb rm -rf "/staging/$1/$p" || { unset IFS; return 1; }; done; unset IFS; fi
    wipekeep /live/$1 "$k" && $bb cp -a /$2/$1/. /live/$1/ && $bb rm -f /live/$1/$m
  else wipe /live/$1 && $bb cp -a /$2/$1/. /live/$1/ && $bb rm -f /live/$1/$m && { $bb touch -r /$2/$1 /live/$1 || true; }; fi
}
for i in $MOUNTS; do
  [ "$($bb cat /staging/$i/$m 2>/dev/null)" = "$NONCE" ] || { echo $i; exit 5; }
done
for i in $MOUNTS; do
  if [ "$(kind $i)" = file ]; then $bb cp -a /live/$i "/rollback/$i/$(base $i)"
  elif [ -n "$(keep $i)" ]; then rollbackkeep $i
  else $bb cp -a /live/$i/. /rollback/$i/; fi ||
    { echo "copying the live content to the rollback volume failed" >&2; exit 2; }
done
touched=
for i in $MOUNTS; do
  touched="$touched $i"
  put $i staging && continue
  echo "replacing the live content failed: putting the previous content back" >&2
  failed=
  for j in $touched; do put $j rollback || failed="$failed $j"; done
  [ -z "$failed" ] || { echo $failed; exit 4; }
  exit 3
done
$bb sync
`

// swap runs the swap helper with the live, staging and rollback volumes mounted. Its
// error says whether the live content was changed.
func swap(ctx context.Context, env Env, svc composeext.ServicePlan, st *staging, rollback []string) error {
	var mounts []mount.Mount
	var live []string
	for i, m := range svc.Volumes {
		n := strconv.Itoa(i)
		live = append(live, m.Source)
		mounts = append(mounts,
			mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: "/live/" + n},
			// Writable only where kept paths are dropped from it before the copy.
			mount.Mount{Type: mount.TypeVolume, Source: st.of[i], Target: "/staging/" + n, ReadOnly: len(m.Keep) == 0},
			mount.Mount{Type: mount.TypeVolume, Source: rollback[i], Target: "/rollback/" + n})
	}
	stdout := &engine.Tail{Max: 1024}
	code, stderr, err := runShellOut(ctx, env, svc.Name, "restore-swap", swapScript, st.scriptEnv(svc), mounts, stdout)
	unchanged := func() { _ = engine.RemoveVolumes(context.WithoutCancel(ctx), env.API, rollback) }
	switch {
	case errors.Is(err, engine.ErrNotStarted):
		unchanged()
		return fmt.Errorf("replacing the live content: %w: nothing was replaced, the live content is unchanged", err)
	case err != nil:
		return fmt.Errorf("replacing the live content: %w: the live content may have changed, the previous content is in %s", err, strings.Join(rollback, ", "))
	case code == 0:
		return nil
	case code == swapNotStaged:
		unchanged()
		name := strings.Join(st.volumes, ", ")
		if i, ok := pick(stdout.String(), st.of); ok {
			name = i
		}
		return fmt.Errorf("staging volume %s is not the one restored and verified (removed or re-created since): nothing was replaced, the live content is unchanged", name)
	case code == swapRollbackCopyFailed:
		unchanged()
		return fmt.Errorf("copying the live content to the rollback volume failed: nothing was replaced, the live content is unchanged%s", stderr)
	case code == swapPutBack:
		unchanged()
		return fmt.Errorf("replacing the live content failed; the previous content was copied back, the live content is as before the restore%s", stderr)
	case code == swapPutBackFailed:
		var damaged, keep []string
		for _, f := range strings.Fields(stdout.String()) {
			if i, err := strconv.Atoi(f); err == nil && i >= 0 && i < len(live) {
				damaged, keep = append(damaged, live[i]), append(keep, rollback[i])
			}
		}
		return fmt.Errorf("replacing the live content failed and so did putting the previous content back: %s may be part old, part new; the previous content is in %s%s",
			strings.Join(damaged, ", "), strings.Join(keep, ", "), stderr)
	default:
		return fmt.Errorf("the swap helper ended with exit code %d: the live content may have changed, the previous content is in %s%s", code, strings.Join(rollback, ", "), stderr)
	}
}

// pick returns names[i] for the number the script printed.
func pick(out string, names []string) (string, bool) {
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", false
	}
	i, err := strconv.Atoi(f[0])
	if err != nil || i < 0 || i >= len(names) {
		return "", false
	}
	return names[i], true
}

// checkEmpty fails unless the volume holds nothing.
func checkEmpty(ctx context.Context, env Env, service, name string) error {
	code, stderr, err := runAgent(ctx, env, agentCall{
		service: service, kind: "restore-check", args: []string{"empty", "/target"},
		mounts: []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/target", ReadOnly: true}},
	})
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

// runShellOut runs a busybox shell script in a helper of the run that has no network,
// its stdout to stdout, and returns its exit code and the tail of its stderr as ": …".
func runShellOut(ctx context.Context, env Env, service, kind, script string, vars []string, mounts []mount.Mount, stdout io.Writer) (int, string, error) {
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, env.API, engine.HelperSpec{
		Name:        env.Run.HelperName(service + "-" + kind),
		Image:       env.Run.Runner.Image,
		Entrypoint:  []string{busybox},
		Cmd:         []string{"sh", "-c", script},
		Env:         vars,
		Mounts:      mounts,
		Labels:      env.Run.Labels(service, kind),
		NetworkMode: "none",
		Stdout:      stdout,
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
