package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path"
	"slices"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/restic"
)

// staging is where one restore stages a service's mounts: a staging volume per folder,
// and one volume shared by the service's bind-mounted files (restic writes a file, not
// a folder, at a file's snapshot path, so its volume is mounted at the parent folder).
type staging struct {
	// nonce is this restore's own: it names the marker, and makes the volume names unique.
	nonce string
	// stamp is in every volume name: time, run ID and part of the nonce.
	stamp string
	// of is the staging volume of each mount; file mounts share one.
	of []string
	// file is true for a bind-mounted file.
	file []bool
	// volumes are the distinct staging volumes, to create and remove.
	volumes []string
}

// newNonce returns 16 random hex digits.
func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newStaging names the staging volumes of a restore of svc, whose mounts the snapshot
// holds as files where files says so (fileMounts). Names carry the time, the run's ID and the restore's nonce, so two
// restores of one volume never share a name, also within one run and one second.
func newStaging(env Env, svc composeext.ServicePlan, files []bool) *staging {
	nonce := newNonce()
	s := &staging{nonce: nonce, stamp: env.now().UTC().Format("20060102-150405") + "-" + env.Run.ID + "-" + nonce[:4]}
	filesVolume := env.Plan.Project + "_" + svc.Name + "_files-staging-" + s.stamp
	for i, m := range svc.Volumes {
		name := liveBase(env.Plan.Project, svc, m) + "-staging-" + s.stamp
		isFile := files[i]
		if isFile {
			name = filesVolume
		}
		s.of = append(s.of, name)
		s.file = append(s.file, isFile)
		if !slices.Contains(s.volumes, name) {
			s.volumes = append(s.volumes, name)
		}
	}
	return s
}

// create creates the staging volumes, new ones only.
func (s *staging) create(ctx context.Context, env Env, svc composeext.ServicePlan) ([]string, error) {
	var created []string
	for _, name := range s.volumes {
		labels := env.Run.TemporaryLabels(svc.Name)
		labels[LabelStaging] = env.Plan.Project + "/" + svc.Name + "/" + s.key(svc, name)
		if err := engine.CreateNewVolume(ctx, env.API, name, labels); err != nil {
			return created, err
		}
		created = append(created, name)
	}
	return created, nil
}

// key is what a staging volume holds, for its label: the mount's key, or "files".
func (s *staging) key(svc composeext.ServicePlan, name string) string {
	i := slices.Index(s.of, name)
	if s.file[i] {
		return "files"
	}
	return svc.Volumes[i].Key
}

// resticMounts mounts each staging volume where restic restores its mounts: a folder's
// at its snapshot path, the files' volume at their parent folder (once).
func (s *staging) resticMounts(svc composeext.ServicePlan) []restic.Mount {
	var mounts []restic.Mount
	seen := map[string]bool{}
	for i, m := range svc.Volumes {
		target := m.Path
		if s.file[i] {
			target = path.Dir(m.Path)
		}
		if seen[s.of[i]] {
			continue
		}
		seen[s.of[i]] = true
		mounts = append(mounts, restic.Mount{Type: "volume", Source: s.of[i], Target: target})
	}
	return mounts
}
