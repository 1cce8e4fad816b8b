package helper

import (
	"testing"

	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// fixture is a fake engine whose helpers run the fake restic, and a runner of project
// shop on it.
type fixture struct {
	eng *enginetest.Engine
	rst *enginetest.Restic
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{eng: enginetest.New(t), rst: enginetest.NewRestic()}
	f.eng.Program = f.rst.Program
	return f
}

// runner runs restic for project shop on the local repository /srv/backups, outside a
// run.
func (f *fixture) runner() *Runner {
	return &Runner{API: f.eng, Image: "restic/restic:test", Project: "shop",
		Repo: Repo{URL: "/srv/backups", Local: true, Password: []byte("hunter2")}}
}

// restic 0.18's words when another process holds the lock.
const lockedMessage = "unable to create lock in backend: repository is already locked exclusively by PID 7 on docker-backup-abc by root (UID 0, GID 0)\n" +
	"lock was created at 2026-11-25 14:20:00 (3.123456s ago)\nstorage ID 1234abcd\n"
