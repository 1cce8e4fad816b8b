package restore

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// Exit codes of the preflight script.
const (
	preflightTools  = 3 // the image's busybox lacks what the swap uses
	preflightTarget = 4 // a live mount is not what the snapshot holds (file or folder)
	preflightMarker = 5 // writing the marker into a staging volume failed
)

// preflightScript tries the swap's tools for real (find -mindepth/-maxdepth -exec {} +,
// cp -a, stat -c, touch -r: the swap must not be the first to find one missing), checks
// each live mount is a folder or file as the snapshot says, writes this restore's marker
// into each staging volume, and prints per mount: number, device of the live mount, its
// size in KiB, device of the staging volume, KiB free there.
const preflightScript = `set -u
bb=` + busybox + `
t=/tmp/try
$bb mkdir -p $t/a/b && $bb touch $t/a/.c $t/a/d && $bb cp -a $t/a $t/e &&
  $bb find $t/a -mindepth 1 -maxdepth 1 -exec $bb rm -rf {} + && [ -z "$($bb ls -A $t/a)" ] &&
  $bb stat -c '%u:%g %a %d' $t/e >/dev/null && $bb touch -r $t/a $t/e && printf x | $bb cat > $t/f ||
  { echo "busybox of the helper image lacks find -mindepth/-maxdepth/-exec +, cp -a, stat -c or touch -r" >&2; exit 3; }
for i in $MOUNTS; do
  eval "kind=\$KIND_$i"
  if [ "$kind" = file ]; then [ -f /live/$i ] || { echo "the live mount is not a file, the snapshot holds a file" >&2; exit 4; }
  else [ -d /live/$i ] || { echo "the live mount is not a folder, the snapshot holds a folder" >&2; exit 4; }; fi
  printf '%s' "$NONCE" > /staging/$i/.docker-backup-staged-$NONCE || exit 5
  echo "$i $($bb stat -c %d /live/$i) $($bb du -sk /live/$i | $bb awk '{print $1}') $($bb stat -c %d /staging/$i) $($bb df -Pk /staging/$i | $bb tail -n 1 | $bb awk '{print $4}')"
done
`

// preflight checks, before the service is stopped, what the swap will need: the live
// volumes exist (a missing one would be created empty by the engine), the helper image
// runs busybox with the tools the swap uses, each live mount is a folder or a file as
// in the snapshot, and the engine's volume storage has room for the staged snapshot and
// the rollback copy. It writes the restore's marker into each staging volume.
func preflight(ctx context.Context, env Env, svc composeext.ServicePlan, st *staging, stats []restic.TreeStats) error {
	var mounts []mount.Mount
	for i, m := range svc.Volumes {
		if m.Type == "volume" {
			exists, err := engine.VolumeExists(ctx, env.API, m.Source)
			if err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("volume %s does not exist: create it first (docker compose up --no-start creates the project's volumes), or restore with --to", m.Source)
			}
		}
		n := strconv.Itoa(i)
		mounts = append(mounts,
			mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: "/live/" + n, ReadOnly: true},
			mount.Mount{Type: mount.TypeVolume, Source: st.of[i], Target: "/staging/" + n})
	}
	mounts = append(mounts, mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp"})
	stdout := &engine.Tail{Max: 8 << 10}
	code, stderr, err := runShellOut(ctx, env, svc.Name, "restore-preflight", preflightScript, st.scriptEnv(svc), mounts, stdout)
	switch {
	case err != nil:
		return fmt.Errorf("checking before the restore (helper image %s, which must have %s as restic/restic has): %w", env.Plan.Image, busybox, err)
	case code == preflightTools || code == 126 || code == 127:
		return fmt.Errorf("helper image %s cannot run the restore's copy (exit code %d)%s", env.Plan.Image, code, stderr)
	case code == preflightTarget:
		return fmt.Errorf("the live mounts do not match the snapshot%s", stderr)
	case code != 0:
		return fmt.Errorf("checking before the restore: exit code %d%s", code, stderr)
	}
	return checkSpace(stdout.String(), stats)
}

// checkSpace compares the room the restore takes on the engine's volume storage with
// what is free there: the staged snapshot, the rollback copy of the live content and,
// where the live mount is on the same storage, what the new content takes beyond the
// old. Sizes are estimates: restic's bytes plus a block per folder, du's KiB.
func checkSpace(report string, stats []restic.TreeStats) error {
	var need, free uint64
	sawFree := false
	sc := bufio.NewScanner(strings.NewReader(report))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 {
			continue
		}
		i, err := strconv.Atoi(f[0])
		if err != nil || i < 0 || i >= len(stats) {
			continue
		}
		live, _ := strconv.ParseUint(f[2], 10, 64)
		fr, err := strconv.ParseUint(f[4], 10, 64)
		if err != nil {
			return nil // no df figure: nothing to compare
		}
		staged := stats[i].Bytes/1024 + 4*stats[i].Dirs
		need += staged + live
		if f[1] == f[3] && staged > live {
			need += staged - live
		}
		free, sawFree = fr, true
	}
	if sawFree && need > free {
		return fmt.Errorf("not enough free space: the restore needs about %s on the engine's volume storage (the staged snapshot and the rollback copy of the live content), %s are free", kib(need), kib(free))
	}
	return nil
}

// kib formats a size in KiB for a message.
func kib(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d KiB", n)
}
