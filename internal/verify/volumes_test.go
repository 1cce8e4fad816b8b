package verify

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
)

const snapFiles = `[{"id":"cccc1111","short_id":"cccc1111","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/backup/files/data","/backup/files/etc-app.conf"],"tags":["project=p","service=files","strategy=volumes","volume=data"]}]`

// filesFixture is the fixture with a volumes service files (container c2) that mounts
// a volume at /data and a file at /etc/app.conf; its snapshot holds a folder with one
// file of 5 bytes, and the file of 4 bytes.
func filesFixture(t *testing.T) *fixture {
	f := newFixture(t)
	live := enginetest.ServiceContainer("c2", "p", "files", true)
	live.Image = "files-image"
	f.eng.AddContainer(live)
	f.env.Plan.Services = append(f.env.Plan.Services, composeext.ServicePlan{
		Name: "files", Strategy: composeext.StrategyVolumes, Tags: []string{"project=p", "service=files", "strategy=volumes"},
		Volumes: []composeext.Mount{
			{Key: "data", Type: "volume", Source: "p_data", Target: "/data", Path: "/backup/files/data"},
			{Key: "/etc/app.conf", Type: "bind", Source: "/srv/p/app.conf", Target: "/etc/app.conf", Path: "/backup/files/etc-app.conf"},
		},
		Verify: []string{"check-files"},
	})
	f.rst.On("snapshots", func(c enginetest.Call) enginetest.Reply {
		if slices.ContainsFunc(c.Args, func(a string) bool { return strings.Contains(a, "service=files") }) {
			return enginetest.Reply{Stdout: snapFiles}
		}
		return enginetest.Reply{Stdout: snapDB}
	})
	f.rst.On("ls", func(c enginetest.Call) enginetest.Reply {
		if c.Args[len(c.Args)-1] == "/backup/files/etc-app.conf" {
			return enginetest.Reply{Stdout: `{"name":"etc-app.conf","type":"file","path":"/backup/files/etc-app.conf","size":4,"struct_type":"node"}` + "\n"}
		}
		return enginetest.Reply{Stdout: `{"name":"data","type":"dir","path":"/backup/files/data","struct_type":"node"}
{"name":"a","type":"file","path":"/backup/files/data/a","size":5,"struct_type":"node"}
`}
	})
	f.rst.Reply("restore", enginetest.Reply{Stdout: `{"message_type":"summary","total_files":3,"files_restored":3,"total_bytes":9,"bytes_restored":9}` + "\n"})
	return f
}

// A bind-mounted file is restored into a throwaway volume of its own, mounted at the
// parent of its snapshot path, and the check sees it at the service's path, bound from
// that volume's folder; counts and bytes include it. Everything goes at the end.
func TestDrillVolumesWithAFile(t *testing.T) {
	f := filesFixture(t)
	var check enginetest.Container
	program := f.eng.Program
	f.eng.Program = func(p *enginetest.Process) int {
		if p.Config.Labels[helper.LabelKind] == Kind && len(p.Config.Entrypoint) > 0 && p.Config.Entrypoint[0] == "check-files" {
			check = p.Container
			return 0
		}
		return program(p)
	}
	res := f.drill(t, Options{})
	i := slices.IndexFunc(res, func(r report.Result) bool { return r.Service == "files" })
	if i < 0 || res[i].Status != StatusOK || !strings.HasPrefix(res[i].Detail, "3 files and folders, 9 bytes restored and verified") {
		t.Fatalf("results %+v", res)
	}

	restores := f.rst.Find("restore")
	if len(restores) != 1 {
		t.Fatalf("restic restore ran %d times", len(restores))
	}
	restored := map[string]string{}
	for _, m := range restores[0].Helper.HostConfig.Mounts {
		restored[m.Target] = m.Source
	}
	data, files := restored["/backup/files/data"], restored["/backup/files"]
	if !strings.HasPrefix(data, "p-backup-verify-files-") || !strings.HasPrefix(files, "p-backup-verify-files-") || data == files {
		t.Fatalf("restic's mounts %v: want a throwaway volume at the folder's path and another at the file's parent", restored)
	}

	got := map[string]string{}
	for _, m := range check.HostConfig.Mounts {
		got[m.Target] = string(m.Type) + " " + m.Source
	}
	want := map[string]string{
		"/data":         "volume " + data,
		"/etc/app.conf": "bind /var/lib/docker/volumes/" + files + "/_data/etc-app.conf",
	}
	if len(got) != len(want) || got["/data"] != want["/data"] || got["/etc/app.conf"] != want["/etc/app.conf"] {
		t.Errorf("the check's mounts %v, want %v", got, want)
	}
	for _, m := range check.HostConfig.Mounts {
		if strings.Contains(m.Source, "p_data") || strings.Contains(m.Source, "/srv/p/") {
			t.Errorf("the check mounts the live data: %+v", m)
		}
	}
	if left := f.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
