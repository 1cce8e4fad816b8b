package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
)

// stackJob is a job a stack restore ran: its kind, the replicas of the service while
// it ran, and its spec.
type stackJob struct {
	kind     string
	replicas uint64
	job      *enginetest.Job
}

// stackFixture is the fixture with p as a stack: service files (p_files, one replica)
// runs on worker w2; jobs answer by kind, code[kind] their exit code.
type stackFixture struct {
	*fixture
	env  Env
	jobs []stackJob
	code map[string]int
	// during, if set, runs as a job of that kind runs.
	during map[string]func()
}

func newStackFixture(t *testing.T) *stackFixture {
	f := newFixture(t)
	svc := enginetest.StackService("p", "files", enginetest.Replicated(1), enginetest.VolumeMount("p_data", "/data"))
	f.eng.Swarm = &enginetest.Swarm{NodeID: "m1", Manager: true,
		Nodes:    []swarm.Node{enginetest.SwarmNode("m1", "manager"), enginetest.SwarmNode("w2", "worker-2")},
		Services: []swarm.Service{svc},
		Tasks:    []swarm.Task{enginetest.RunningTask(svc, 1, "w2", "c-files")},
	}
	env := f.env(t)
	env.Runner = env.Run.Runner
	f.rst.Reply("snapshots", enginetest.Reply{Stdout: snapFiles})
	f.rst.Reply("ls", enginetest.Reply{Stdout: lsData})
	// Jobs reach the repository from their node: not a folder of one machine.
	env.Run.Runner.Repo = helper.Repo{URL: "s3:http://minio.example/b", Password: []byte("hunter2")}
	s := &stackFixture{fixture: f, env: env, code: map[string]int{}, during: map[string]func(){}}
	f.eng.Swarm.Job = func(j *enginetest.Job) int {
		kind := j.Spec.Labels[helper.LabelKind]
		sw := f.eng.Swarm
		replicas := *sw.Services[slices.IndexFunc(sw.Services, func(s swarm.Service) bool { return s.ID == svc.ID })].Spec.Mode.Replicated.Replicas
		s.jobs = append(s.jobs, stackJob{kind: kind, replicas: replicas, job: j})
		if fn := s.during[kind]; fn != nil {
			fn()
		}
		code := s.code[kind]
		switch kind {
		case "restore":
			fmt.Fprintln(&j.Stdout, goodSummary)
		case helper.KindSwap:
			var spec agent.SwapSpec
			_ = json.Unmarshal(j.Secrets[agent.SpecFile], &spec)
			state := agent.MountNew
			if code != 0 {
				state = agent.MountOld
			}
			if code <= swapExitMax {
				fmt.Fprintf(&j.Stdout, `{"mounts":[%q]}`+"\n", state)
			}
		}
		return code
	}
	s.env.Place = func(composeext.ServicePlan) Placement {
		r := s.env.Run.Runner
		return Placement{Node: "w2", NodeName: "worker-2", ServiceID: "svc-p_files", ServiceName: "p_files",
			Agent: r.AgentOnNode("w2"), Runner: r.OnNode("w2")}
	}
	return s
}

// restore restores files on the stack.
func (s *stackFixture) restore(t *testing.T, ctx context.Context, target string, opts Options) error {
	t.Helper()
	jobs, err := Prepare(ctx, s.env, []Target{{Service: target, Snapshot: "latest"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return Failed(Run(ctx, s.env, jobs, opts))
}

func (s *stackFixture) kinds() []string {
	var out []string
	for _, j := range s.jobs {
		out = append(out, fmt.Sprintf("%s@%d", j.kind, j.replicas))
	}
	return out
}

func (s *stackFixture) job(t *testing.T, kind string) *enginetest.Job {
	t.Helper()
	for _, j := range s.jobs {
		if j.kind == kind {
			return j.job
		}
	}
	t.Fatalf("no %s job: %q", kind, s.kinds())
	return nil
}

// service is p_files as the manager has it now.
func (s *stackFixture) service() swarm.Service {
	sw := s.eng.Swarm
	return sw.Services[slices.IndexFunc(sw.Services, func(x swarm.Service) bool { return x.ID == "svc-p_files" })]
}

// checkScaledBack fails unless p_files is back at one replica with no record.
func (s *stackFixture) checkScaledBack(t *testing.T) {
	t.Helper()
	svc := s.service()
	if n := *svc.Spec.Mode.Replicated.Replicas; n != 1 || svc.Spec.Labels[engine.LabelScaledFrom] != "" || svc.Spec.Labels[engine.LabelScaledBy] != "" {
		t.Errorf("p_files has %d replicas, labels %v: want 1, no record", n, svc.Spec.Labels)
	}
}

// A volumes service of a stack is staged, verified and swapped by jobs on its node;
// the service is at 0 for the swap alone, then back; the node's engine creates the
// volumes with our labels and one job removes the staging and records volumes and the
// older rollback volumes; the manager's engine makes no volume.
func TestStackRestoreSwapsOnNode(t *testing.T) {
	s := newStackFixture(t)
	if err := s.restore(t, context.Background(), "files", Options{}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.kinds(), []string{"restore-preflight@1", "restore@1", "restore-swap@0", "node-volumes@1"}; !slices.Equal(got, want) {
		t.Fatalf("jobs (kind@replicas) %q, want %q", got, want)
	}
	s.checkScaledBack(t)
	for _, j := range s.jobs {
		if c := j.job.Spec.TaskTemplate.Placement.Constraints; !slices.Equal(c, []string{"node.id==w2"}) || !j.job.Removed {
			t.Errorf("%s job: constraints %q, removed %v", j.kind, c, j.job.Removed)
		}
	}
	if c := s.eng.CallsWith("volume-create"); len(c) > 0 {
		t.Errorf("the manager's engine created volumes: %q", c)
	}
	labelsOf := func(j *enginetest.Job, prefix string) (string, map[string]string) {
		for _, m := range j.Spec.TaskTemplate.ContainerSpec.Mounts {
			if m.Type == mount.TypeVolume && strings.HasPrefix(m.Source, prefix) {
				if m.VolumeOptions == nil {
					return m.Source, nil
				}
				return m.Source, m.VolumeOptions.Labels
			}
		}
		t.Fatalf("no mount of %s… in %+v", prefix, j.Spec.TaskTemplate.ContainerSpec.Mounts)
		return "", nil
	}
	staging, l := labelsOf(s.job(t, "restore-preflight"), "p_data-staging-")
	if l[LabelStaging] != "p/files/data" || l[helper.LabelRun] != s.env.Run.ID {
		t.Errorf("staging volume %s labelled %v", staging, l)
	}
	rollback, l := labelsOf(s.job(t, helper.KindSwap), "p_data-rollback-")
	if l[LabelRollback] != "p_data" || l[helper.LabelProject] != "p" {
		t.Errorf("rollback volume %s labelled %v", rollback, l)
	}
	records, l := labelsOf(s.job(t, helper.KindSwap), "p_files_swap-")
	if l[helper.LabelSwap] == "" || l[helper.LabelTemporary] != "true" {
		t.Errorf("records volume %s labelled %v", records, l)
	}
	var spec agent.NodeVolumesSpec
	nv := s.job(t, helper.KindNodeVolumes)
	if err := json.Unmarshal(nv.Secrets[agent.SpecFile], &spec); err != nil {
		t.Fatal(err)
	}
	want := agent.NodeVolumesSpec{Remove: []string{staging, records}, Labelled: []string{LabelRollback + "=p_data"}, Keep: []string{rollback},
		Require: map[string]string{helper.LabelProject: "p"}, Node: "w2"}
	if got, _ := json.Marshal(spec); string(got) != mustJSON(want) {
		t.Errorf("node-volumes spec %s, want %s", got, mustJSON(want))
	}
	if ms := nv.Spec.TaskTemplate.ContainerSpec.Mounts; !slices.ContainsFunc(ms, func(m mount.Mount) bool {
		return m.Type == mount.TypeBind && m.Target == agent.EngineSocket
	}) {
		t.Errorf("the node-volumes job has not its node's socket: %+v", ms)
	}
	if n := s.eng.Swarm.SecretCount(); n != 0 {
		t.Errorf("%d secrets left", n)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A staging restore that fails never scales the service; its staging volume is
// removed on the node.
func TestStackRestoreFailedStagingNeverScales(t *testing.T) {
	s := newStackFixture(t)
	s.code["restore"] = 1
	if err := s.restore(t, context.Background(), "files", Options{}); err == nil {
		t.Fatal("restore succeeded")
	}
	if got, want := s.kinds(), []string{"restore-preflight@1", "restore@1", "node-volumes@1"}; !slices.Equal(got, want) {
		t.Fatalf("jobs %q, want %q", got, want)
	}
	if c := s.eng.CallsWith("service-update"); len(c) > 0 {
		t.Errorf("the service was updated: %q", c)
	}
}

// A swap that fails with every volume old, or a Ctrl-C during the swap, scales the
// service back.
func TestStackRestoreScalesBack(t *testing.T) {
	t.Run("swap failed", func(t *testing.T) {
		s := newStackFixture(t)
		s.code[helper.KindSwap] = agent.SwapUnchanged
		err := s.restore(t, context.Background(), "files", Options{})
		if err == nil || !strings.Contains(err.Error(), "every volume holds its previous content (p_data)") {
			t.Fatalf("restore: %v", err)
		}
		s.checkScaledBack(t)
	})
	t.Run("interrupted", func(t *testing.T) {
		s := newStackFixture(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s.during[helper.KindSwap] = cancel
		_ = s.restore(t, ctx, "files", Options{})
		s.checkScaledBack(t)
	})
}

// A swap that ends neither all old nor all new leaves the service at 0, unrecorded (no
// recovery scales it back onto such data), and its staging volumes on the node.
func TestStackRestoreMixedSwapStaysAtZero(t *testing.T) {
	s := newStackFixture(t)
	s.code[helper.KindSwap] = 137
	err := s.restore(t, context.Background(), "files", Options{})
	if err == nil || !strings.Contains(err.Error(), "p_files stays at 0 replicas, it had 1") {
		t.Fatalf("restore: %v", err)
	}
	svc := s.service()
	if n := *svc.Spec.Mode.Replicated.Replicas; n != 0 || svc.Spec.Labels[engine.LabelScaledBy] != "" {
		t.Errorf("p_files: %d replicas, labels %v; want 0, unrecorded", n, svc.Spec.Labels)
	}
	if slices.Contains(s.kinds(), "node-volumes@0") {
		t.Errorf("volumes removed: %q", s.kinds())
	}
}

// A dump service of a stack is restored by one job on the node of its task, with that
// node's socket, streaming the dump into the restore command in the task's container;
// nothing is scaled. Without a running task it is refused with one line, before any job.
func TestStackRestoreDumpOnNode(t *testing.T) {
	for _, container := range []string{"c-db", ""} {
		s := newStackFixture(t)
		s.rst.Reply("snapshots", enginetest.Reply{Stdout: `[{"id":"bbbb1111","short_id":"bbbb1111","time":"2026-01-10T10:00:00Z","hostname":"p","paths":["/db.sql"],"tags":["project=p","service=db","strategy=dump"]}]`})
		s.env.Place = func(composeext.ServicePlan) Placement {
			r := s.env.Run.Runner
			return Placement{Node: "w1", NodeName: "worker-1", ServiceID: "svc-p_db", ServiceName: "p_db", Container: container, Runner: r.OnNode("w1")}
		}
		jobs, err := Prepare(context.Background(), s.env, []Target{{Service: "db", Snapshot: "latest"}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := Run(context.Background(), s.env, jobs, Options{})
		if container == "" {
			if len(res) != 1 || !errors.Is(res[0].Err, ErrStackRefused) || !strings.Contains(res[0].Err.Error(), "no running task to restore its dump into") || len(s.jobs) > 0 {
				t.Errorf("without a task: results %+v, jobs %q", res, s.kinds())
			}
			continue
		}
		if len(res) != 1 || res[0].Status != report.StatusOK || res[0].Node != "worker-1" {
			t.Fatalf("results %+v", res)
		}
		if got := s.kinds(); !slices.Equal(got, []string{helper.KindDumpRestore + "@1"}) {
			t.Fatalf("jobs %q, want one dump-restore while the service runs", got)
		}
		j := s.job(t, helper.KindDumpRestore)
		if c := j.Spec.TaskTemplate.Placement.Constraints; len(c) != 1 || c[0] != "node.id==w1" {
			t.Errorf("the job's constraints %q", c)
		}
		if !slices.ContainsFunc(j.Spec.TaskTemplate.ContainerSpec.Mounts, func(m mount.Mount) bool { return m.Target == agent.EngineSocket }) {
			t.Errorf("the job has no socket of its node: %+v", j.Spec.TaskTemplate.ContainerSpec.Mounts)
		}
		var spec struct{ Container string }
		for _, data := range j.Secrets {
			_ = json.Unmarshal(data, &spec)
			if spec.Container != "" {
				break
			}
		}
		if spec.Container != "c-db" {
			t.Errorf("the dump is restored into container %q, want the task's c-db", spec.Container)
		}
	}
}

// --dry-run on a stack says the steps run as jobs on the node and the service is
// scaled, not stopped.
func TestStackRestoreSteps(t *testing.T) {
	s := newStackFixture(t)
	jobs, err := Prepare(context.Background(), s.env, []Target{{Service: "files", Snapshot: "latest"}}, Options{Stack: true})
	if err != nil {
		t.Fatal(err)
	}
	steps := strings.Join(jobs[0].Steps(Options{Stack: true}), "\n")
	for _, want := range []string{"one-shot swarm service", "scale the swarm service to 0", "scale the swarm service back"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}
	if strings.Contains(steps, "stop the service's running containers") || len(s.jobs) > 0 {
		t.Errorf("steps:\n%s\njobs %q", steps, s.kinds())
	}
}
