package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
)

// stackS3Compose is stackCompose with a repository every node reaches.
var stackS3Compose = strings.Replace(strings.Replace(stackCompose, "repository: REPO", "repository: s3:http://minio.example:9000/backups/shop", 1),
	"  password_file: restic.pw\n", "  password_file: restic.pw\n  environment: {AWS_ACCESS_KEY_ID: key-id-never-shown, AWS_SECRET_ACCESS_KEY: key-never-shown}\n", 1)

// stackS3Fixture is stackFixture with an S3 repository, and cache deployed on w2 too.
func stackS3Fixture(t *testing.T) (*fixture, *anchorRestic) {
	return stackS3FixtureOf(t, stackS3Compose)
}

// stackS3FixtureOf is stackS3Fixture with compose, a variant of stackS3Compose.
func stackS3FixtureOf(t *testing.T, compose string) (*fixture, *anchorRestic) {
	f := stackFixture(t)
	g := composeFixture(t, compose)
	g.eng.Swarm = f.eng.Swarm
	cache := enginetest.StackService("shop", "cache", enginetest.Replicated(1), enginetest.VolumeMount("shop_cache", "/data"))
	setService(g, cache, enginetest.RunningTask(cache, 1, "w2node0000000000000000000", "c-cache"))
	g.eng.SystemInfo.Swarm.Cluster = &swarm.ClusterInfo{ID: "cluster-shop"}
	return g, newAnchorRestic(g)
}

// On a stack, up backs up a volumes service as a job on the node of its task, its
// secrets as swarm secrets removed afterwards, and a dump service likewise (its
// job's own test is TestStackUpDumpAsJob).
func TestStackUpVolumesAsJob(t *testing.T) {
	f, restic := stackS3Fixture(t)
	f.eng.Swarm.Job = func(j *enginetest.Job) int {
		fmt.Fprintln(&j.Stdout, `{"message_type":"summary","data_added":512,"total_files_processed":2,"snapshot_id":"feedfacefeedface"}`)
		return 0
	}
	rep, err := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"db", "cache"}}, f.sink())
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	want := map[string]string{
		"db":    "",
		"cache": "",
	}
	for _, s := range rep.Services {
		if w, ok := want[s.Service]; ok && s.Error != w {
			t.Errorf("%s: error %q, want %q", s.Service, s.Error, w)
		}
		if s.Service == "cache" && (s.Status != report.StatusOK || s.Snapshot != "feedfacefeedface") {
			t.Errorf("cache: %+v, want ok with snapshot feedfacefeedface", s)
		}
	}
	sw := f.eng.Swarm
	if len(sw.Jobs) != 2 {
		t.Fatalf("%d jobs, want 2 (cache, db)", len(sw.Jobs))
	}
	j := jobOf(t, sw, "cache")
	spec, _ := json.Marshal(j.Spec)
	for _, secret := range []string{"s3cret", "key-never-shown", "key-id-never-shown", "minio.example"} {
		if strings.Contains(string(spec), secret) {
			t.Errorf("the job's spec shows %q:\n%s", secret, spec)
		}
	}
	if got := strings.TrimSpace(string(j.Secrets["/run/docker-backup/password"])); got != "s3cret" {
		t.Errorf("the job's password secret is %q", got)
	}
	if !strings.Contains(string(j.Secrets["/run/docker-backup/aws-credentials"]), "key-never-shown") {
		t.Errorf("the job has no AWS credentials file: %q", j.Secrets)
	}
	cs := j.Spec.TaskTemplate.ContainerSpec
	args := strings.Join(cs.Args, " ")
	if !slices.Equal(j.Spec.TaskTemplate.Placement.Constraints, []string{"node.id==w2node0000000000000000000"}) ||
		j.Spec.Mode.Replicated == nil || *j.Spec.Mode.Replicated.Replicas != 1 || j.Spec.Labels[helper.LabelRun] == "" || j.Spec.Labels[helper.LabelService] != "cache" {
		t.Errorf("the job's spec: %s", spec)
	}
	if !strings.Contains(args, "--host shop@swarm-") || !strings.Contains(args, "node=worker-2") {
		t.Errorf("restic's arguments %q: want the swarm's host and the node's tag", args)
	}
	if len(cs.Mounts) == 0 || cs.Mounts[len(cs.Mounts)-1].Source != "shop_cache" || !cs.Mounts[len(cs.Mounts)-1].ReadOnly {
		t.Errorf("the job's mounts: %+v", cs.Mounts)
	}
	if !j.Removed || !jobOf(t, sw, "db").Removed || sw.SecretCount() != 0 {
		t.Errorf("left: jobs removed %v, %v, %d secrets", j.Removed, jobOf(t, sw, "db").Removed, sw.SecretCount())
	}
	if strings.Contains(f.err.String(), "retention not applied") {
		t.Errorf("up on a stack warned\n%s", f.err.String())
	}
	// Its snapshots were listed (no earlier one): no dry run, no forget (no policy).
	if got := restic.ran("snapshots"); len(got) != 2 {
		t.Errorf("restic snapshots ran %q, want the run's and the stack's listing", got)
	}
	for _, a := range restic.argv {
		if strings.HasPrefix(a, "forget") {
			t.Errorf("up on a stack with no retention policy ran restic %s", a)
		}
	}
}

// jobOf is the one job of service svc.
func jobOf(t *testing.T, sw *enginetest.Swarm, svc string) *enginetest.Job {
	t.Helper()
	var out *enginetest.Job
	for _, j := range sw.Jobs {
		if j.Spec.Labels[helper.LabelService] == svc {
			if out != nil {
				t.Fatalf("more than one job of %s", svc)
			}
			out = j
		}
	}
	if out == nil {
		t.Fatalf("no job of %s", svc)
	}
	return out
}

// A failing job is the service's failure, and it is removed with its secrets.
func TestStackUpJobFails(t *testing.T) {
	f, _ := stackS3Fixture(t)
	f.eng.Swarm.Job = func(j *enginetest.Job) int {
		fmt.Fprintln(&j.Stderr, "Fatal: unable to open repository")
		return 1
	}
	rep, err := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"cache"}}, f.sink())
	if err == nil || len(rep.Services) != 1 || rep.Services[0].Status != report.StatusFailed {
		t.Fatalf("up: %v, %+v; want cache failed", err, rep.Services)
	}
	if j := f.eng.Swarm.Jobs[0]; !j.Removed || f.eng.Swarm.SecretCount() != 0 {
		t.Errorf("left: job removed %v, %d secrets", j.Removed, f.eng.Swarm.SecretCount())
	}
}

// What up cannot do on any stack is refused before anything runs, one line naming the
// file and key each: a folder repository, no agent_image.
func TestStackUpRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *fixture
		want  string
	}{
		{"folder repository", stackFixture, "compose.yaml: x-backup.repository: "},
		{"no agent image", func(t *testing.T) *fixture {
			f, _ := stackS3Fixture(t)
			f.app.Environ = nil
			return f
		}, "compose.yaml: x-backup.agent_image: not set, and shop is a swarm stack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.setup(t)
			_, err := f.app.Up(context.Background(), UpOptions{Load: f.load()}, f.sink())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || !errors.Is(err, composeext.ErrInvalid) {
				t.Fatalf("up: %v, want one line beginning %q", err, tc.want)
			}
			if c := f.eng.CallsWith("create", "service-create", "secret-create", "volume-create"); len(c) > 0 {
				t.Errorf("a refused up made %v", c)
			}
		})
	}
}
