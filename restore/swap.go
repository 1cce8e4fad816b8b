package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
)

// Labels restore puts on the volumes it creates, besides engine.LabelHelperProject
// and engine.LabelHelperService.
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
func swap(ctx context.Context, env Env, svc composeext.ServicePlan, staging, rollback []string, labels map[string]string) error {
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
	code, stderr, err := runShell(ctx, env, svc.Name, "restore-swap", swapScript, []string{"MOUNTS=" + strings.Join(idx, " ")}, mounts, labels)
	switch {
	case err != nil:
		return fmt.Errorf("replacing the live content (previous content in %s): %w", strings.Join(rollback, ", "), err)
	case code == 0:
		return nil
	case code == swapRollbackCopyFailed || code == swapPutBack:
		removeVolumes(context.WithoutCancel(ctx), env, rollback)
		return fmt.Errorf("replacing the live content failed, it is unchanged (exit code %d)%s", code, stderr)
	default:
		return fmt.Errorf("replacing the live content failed (exit code %d)%s: the previous content is in %s", code, stderr, strings.Join(rollback, ", "))
	}
}

// checkEmpty fails unless the volume holds nothing.
func checkEmpty(ctx context.Context, env Env, service, name string) error {
	script := `[ -z "$(` + busybox + ` ls -A /target)" ]`
	code, stderr, err := runShell(ctx, env, service, "restore-check", script, nil,
		[]mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/target", ReadOnly: true}}, nil)
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

// runShell runs a busybox shell script in a helper that has no network and returns its
// exit code and the tail of its stderr as ": …" (or "").
func runShell(ctx context.Context, env Env, service, kind, script string, vars []string, mounts []mount.Mount, extra map[string]string) (int, string, error) {
	labels := ownLabels(env.Plan.Project, service)
	labels[engine.LabelHelper] = "true"
	labels[engine.LabelKind] = kind
	for k, v := range extra {
		labels[k] = v
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	stderr := &engine.Tail{Max: 2048}
	code, err := engine.RunHelper(ctx, env.API, engine.HelperSpec{
		Name:        env.Plan.Project + "-backup-" + service + "-" + kind + "-" + hex.EncodeToString(b[:]),
		Image:       env.Plan.Image,
		Entrypoint:  []string{busybox},
		Cmd:         []string{"sh", "-c", script},
		Env:         vars,
		Mounts:      mounts,
		Labels:      labels,
		NetworkMode: "none",
		Stderr:      stderr,
	})
	return code, stderr.Suffix(), err
}

// ownLabels are the labels of every helper and volume restore creates.
func ownLabels(project, service string) map[string]string {
	return map[string]string{engine.LabelHelperProject: project, engine.LabelHelperService: service}
}

func createVolume(ctx context.Context, env Env, name string, labels map[string]string) error {
	if _, err := env.API.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: labels}); err != nil {
		return fmt.Errorf("creating volume %s: %w", name, err)
	}
	return nil
}

func volumeExists(ctx context.Context, env Env, name string) (bool, error) {
	res, err := env.API.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("name", name)})
	if err != nil {
		return false, fmt.Errorf("looking for volume %s: %w", name, err)
	}
	for _, v := range res.Items {
		if v.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// removeVolumes removes the named volumes, skipping empty names; it is a cleanup, so
// failures are left for the next run.
func removeVolumes(ctx context.Context, env Env, names []string) {
	for _, n := range names {
		if n != "" {
			_, _ = env.API.VolumeRemove(ctx, n, client.VolumeRemoveOptions{})
		}
	}
}

// removeOrphanStaging removes the project's staging volumes left by a killed run. One
// still mounted by a running helper cannot be removed and is left alone.
func removeOrphanStaging(ctx context.Context, env Env) {
	res, err := env.API.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.
		Add("label", LabelStaging).Add("label", engine.LabelHelperProject+"="+env.Plan.Project)})
	if err != nil {
		return
	}
	for _, v := range res.Items {
		_, _ = env.API.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{})
	}
}

// removeOldRollbacks removes the rollback volumes of a live volume but keep.
func removeOldRollbacks(ctx context.Context, env Env, live, keep string) {
	res, err := env.API.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.
		Add("label", LabelRollback+"="+live).Add("label", engine.LabelHelperProject+"="+env.Plan.Project)})
	if err != nil {
		return
	}
	for _, v := range res.Items {
		if v.Name != keep {
			_, _ = env.API.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{})
		}
	}
}
