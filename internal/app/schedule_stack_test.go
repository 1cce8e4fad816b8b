package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
	"go.yaml.in/yaml/v4"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// On a swarm stack, --print writes the scheduler as a stack of its own: one replica
// placed on a manager with that manager's socket, the agent image, restarted, a stop
// grace period, and the compose file, .env, a service's env_file and the password file
// as swarm secrets mounted
// at their paths here, named with their content's hash; the command names the project
// and its files. No secret is in it, and nothing is asked of the engine but whether the
// project is a stack.
func TestStackSchedulerPrinted(t *testing.T) {
	f, _ := stackS3Fixture(t)
	compose, dotEnv, cacheEnv, pw := filepath.Join(f.dir, "compose.yaml"), filepath.Join(f.dir, ".env"), filepath.Join(f.dir, "cache.env"), filepath.Join(f.dir, "restic.pw")
	src, err := os.ReadFile(compose)
	if err != nil {
		t.Fatal(err)
	}
	withEnvFile := strings.Replace(string(src), "    image: redis\n", "    image: redis\n    env_file: [cache.env]\n", 1)
	for path, data := range map[string]string{dotEnv: "UNUSED=1\n", cacheEnv: "REDIS_ARGS=--save 60 1\n", compose: withEnvFile} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err = f.app.PrintScheduler(context.Background(), ScheduleOptions{Load: f.load(), ServiceName: "docker-backup"}, &f.out, f.sink())
	if err != nil || f.err.Len() > 0 {
		t.Fatalf("print: %v\n%s", err, f.err.String())
	}
	out := f.out.String()
	for _, secret := range []string{"s3cret", "key-never-shown", "key-id-never-shown"} {
		if strings.Contains(out, secret) {
			t.Errorf("the printed file holds a secret (%s):\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "# Deploy it as a stack of its own, on a manager: docker stack deploy -c FILE shop-backup\n") {
		t.Errorf("the file does not say how to deploy it:\n%s", out)
	}
	var doc stackFile
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	svc, ok := doc.Services["docker-backup"]
	if !ok || len(doc.Services) != 1 {
		t.Fatalf("services %v", doc.Services)
	}
	wantCommand := []string{"schedule", "-p", "shop", "--project-directory", f.dir, "-f", compose, "--state-file", schedule.StateFile}
	if svc.Image != "docker-backup:test" || !slices.Equal(svc.Command, wantCommand) || svc.StopGracePeriod != "1m" ||
		svc.XBackup != "none" || svc.Environment["DOCKER_BACKUP_AGENT_IMAGE"] != "docker-backup:test" {
		t.Errorf("service: %+v\nwant command %q", svc, wantCommand)
	}
	if len(svc.Volumes) != 1 || svc.Volumes[0] != (bindMount{Type: "bind", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}) {
		t.Errorf("volumes %+v, want the manager's socket alone", svc.Volumes)
	}
	d := svc.Deploy
	if d.Mode != "replicated" || d.Replicas != 1 || !slices.Equal(d.Placement.Constraints, []string{"node.role == manager"}) ||
		d.RestartPolicy.Condition != "any" || d.Labels[SchedulerStackLabel] != "shop" || svc.Labels[SchedulerLabel] != "true" {
		t.Errorf("deploy %+v, labels %v", d, svc.Labels)
	}
	var targets []string
	for _, ref := range svc.Secrets {
		sec, ok := doc.Secrets[ref.Source]
		if !ok || sec.File != ref.Target || !strings.HasPrefix(sec.Name, "shop-backup-"+ref.Source+"-") || ref.Mode != 0o400 {
			t.Errorf("secret %+v: %+v", ref, sec)
		}
		targets = append(targets, ref.Target)
	}
	if !slices.Equal(targets, []string{compose, dotEnv, cacheEnv, pw}) || len(doc.Secrets) != 4 {
		t.Errorf("secrets mounted at %q, want the compose file, .env, cache's env_file and the password file", targets)
	}
	if calls := f.eng.CallsWith("create"); len(calls) > 0 {
		t.Errorf("print created %v", calls)
	}

	// A file edited is a secret of another name: a swarm secret cannot change.
	before := doc.Secrets["password-4"].Name
	if err := os.WriteFile(pw, []byte("another\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.out.Reset()
	if err := f.app.PrintScheduler(context.Background(), ScheduleOptions{Load: f.load(), ServiceName: "docker-backup"}, &f.out, f.sink()); err != nil {
		t.Fatal(err)
	}
	var again stackFile
	if err := yaml.Unmarshal(f.out.Bytes(), &again); err != nil {
		t.Fatal(err)
	}
	if after := again.Secrets["password-4"].Name; after == before || again.Secrets["compose-1"] != doc.Secrets["compose-1"] {
		t.Errorf("password secret %s then %s; compose %+v then %+v", before, after, doc.Secrets["compose-1"], again.Secrets["compose-1"])
	}
}

// What a stack's scheduler cannot do is refused in one line per key, exit code 2,
// before anything is printed or runs: a folder repository (one node's) and no
// agent_image; by --print and by the scheduler itself.
func TestStackSchedulerRefused(t *testing.T) {
	ctx := context.Background()
	for name, run := range map[string]func(f *fixture) error{
		"print": func(f *fixture) error {
			return f.app.PrintScheduler(ctx, ScheduleOptions{Load: f.load(), ServiceName: "docker-backup"}, &f.out, f.sink())
		},
		"schedule": func(f *fixture) error { return f.app.Schedule(ctx, ScheduleOptions{Load: f.load(), Log: &f.out}) },
	} {
		t.Run(name, func(t *testing.T) {
			f := stackFixture(t)
			f.app.Environ = nil
			err := run(f)
			var inv *composeext.InvalidError
			if !errors.As(err, &inv) || len(inv.Lines) != 2 || exitCode(ctx, err) != ExitUsage ||
				!strings.HasPrefix(inv.Lines[0], "compose.yaml: x-backup.repository: ") ||
				!strings.HasPrefix(inv.Lines[1], "compose.yaml: x-backup.agent_image: not set, and shop is a swarm stack") {
				t.Fatalf("err %v, want two lines naming x-backup.repository and x-backup.agent_image", err)
			}
			if strings.Contains(f.out.String(), "services:") || len(f.eng.CallsWith("create")) > 0 {
				t.Errorf("a refused %s printed or created:\n%s", name, f.out.String())
			}
		})
	}
}

// The scheduler on a stack, as it starts: a dead run's job and secret (a scheduler
// killed during up) are removed by a recovery run in the stack's identity, and logged.
func TestStackScheduleRecoversDeadJobs(t *testing.T) {
	ctx := context.Background()
	f, _ := stackS3Fixture(t)
	labels := map[string]string{helper.LabelProject: "shop", helper.LabelRun: "dead000001", helper.LabelService: "cache", helper.LabelHelper: "true"}
	f.eng.Swarm.Services = append(f.eng.Swarm.Services, swarm.Service{ID: "s-dead", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "shop-backup-cache-dead", Labels: labels}}})
	if _, err := f.eng.SecretCreate(ctx, client.SecretCreateOptions{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "shop-backup-cache-dead-0", Labels: labels}}}); err != nil {
		t.Fatal(err)
	}
	plan, err := LoadPlan(ctx, f.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cluster := "cluster-shop"
	jobs := []schedule.Job{{Name: "up", Spec: "0 3 * * *"}}
	sc := &scheduler{a: f.app, log: &scheduleLog{out: &f.out}, clusterID: &cluster,
		tracker: schedule.NewTracker(filepath.Join(t.TempDir(), "scheduler.json"), "shop", jobs, time.Now())}
	if err := sc.recover(ctx, plan); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	if slices.ContainsFunc(f.eng.Swarm.Services, func(s swarm.Service) bool { return s.ID == "s-dead" }) {
		t.Errorf("the dead run's job is still there:\n%s", f.out.String())
	}
	if secrets, _ := f.eng.SecretList(ctx, client.SecretListOptions{}); len(secrets.Items) != 0 {
		t.Errorf("secrets left: %+v", secrets.Items)
	}
	for _, want := range []string{"schedule: recovering what a dead run (run dead000001) left",
		"schedule: recovery: removed 1 swarm job(s) of the dead run and their secrets"} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, f.out.String())
		}
	}
}

// status on a stack lists the stack's series (host <stack>@swarm-…) and reads the
// state of the stack's scheduler from its container on the manager; a scheduler whose
// task runs on another manager is one line naming its service.
func TestStackStatus(t *testing.T) {
	ctx := context.Background()
	f, restic := stackS3Fixture(t)
	next := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: "[]\n"})
	view, err := f.app.Status(ctx, f.load(), "", f.sink())
	if err != nil || view.Scheduler != nil || f.err.Len() > 0 {
		t.Fatalf("status without a scheduler: %+v, %v\n%s", view, err, f.err.String())
	}
	if calls := append(restic.ran("snapshots"), f.rst.Commands()...); !slices.ContainsFunc(calls, func(c string) bool { return strings.Contains(c, "--host shop@swarm-") }) {
		t.Errorf("status did not list the stack's series: %q", calls)
	}

	// The scheduler's task on another manager: its service is all this one sees.
	labels := map[string]string{SchedulerLabel: "true", SchedulerStackLabel: "shop"}
	f.eng.Swarm.Services = append(f.eng.Swarm.Services, swarm.Service{ID: "s-sched", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "shop-backup_docker-backup", Labels: labels}}})
	f.err.Reset()
	if view, err = f.app.Status(ctx, f.load(), "", f.sink()); err != nil || view.Scheduler != nil {
		t.Fatalf("status: %+v, %v", view, err)
	}
	if want := "warning: the scheduler of stack shop (service shop-backup_docker-backup) does not run on this manager: run docker backup status against the manager that runs its task (docker service ps shop-backup_docker-backup)\n"; f.err.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", f.err.String(), want)
	}

	// Its task here: its state is read from its container.
	id := f.eng.AddContainer(enginetest.Seed{Name: "shop-backup_docker-backup.1.x", Labels: labels})
	statePath := filepath.Join(t.TempDir(), "s.json")
	tracker := schedule.NewTracker(statePath, "shop", []schedule.Job{{Name: "up", Spec: "@every 15s"}}, time.Now())
	if err := tracker.Next(map[string]time.Time{"up": next}); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.CopyFiles(ctx, f.eng, id, []engine.File{{Path: schedule.StateFile, Mode: 0o600, Data: state}}); err != nil {
		t.Fatal(err)
	}
	f.err.Reset()
	if view, err = f.app.Status(ctx, f.load(), "", f.sink()); err != nil || f.err.Len() > 0 {
		t.Fatalf("status: %v\n%s", err, f.err.String())
	}
	if view.Scheduler == nil || !view.Scheduler.Running || view.Scheduler.Container != "shop-backup_docker-backup.1.x" || !view.Scheduler.Jobs["up"].Next.Equal(next) {
		t.Errorf("scheduler %+v", view.Scheduler)
	}
}
