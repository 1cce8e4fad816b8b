package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
	"github.com/docker-backup/docker-backup/internal/helper"
	"github.com/docker-backup/docker-backup/internal/report"
)

const w1node = "w1node0000000000000000000"

// stackDumpFixture is stackS3Fixture whose db job runs the agent's own code against
// worker-1's engine (node: the engine behind the socket the job binds there), where
// db's task container c-db answers pg_dumpall with dump (and exit code code).
func stackDumpFixture(t *testing.T, dump string, code int) (f *fixture, node *enginetest.Engine, rst *enginetest.Restic) {
	return stackDumpFixtureOf(t, stackS3Compose, dump, code, nil)
}

// stackDumpFixtureOf is stackDumpFixture with compose, a variant of stackS3Compose;
// execs in c-db other than the dump are answered by other.
func stackDumpFixtureOf(t *testing.T, compose, dump string, code int, other enginetest.ExecProgram) (f *fixture, node *enginetest.Engine, rst *enginetest.Restic) {
	f, _ = stackS3FixtureOf(t, compose)
	node = enginetest.New(t)
	node.SystemInfo = system.Info{ID: "W1W1", Name: "worker-1", DockerRootDir: "/var/lib/docker",
		Swarm: swarm.Info{NodeID: w1node, LocalNodeState: swarm.LocalNodeStateActive}}
	node.AddContainer(enginetest.ServiceContainer("c-db", "shop", "db", true))
	node.Exec = func(x *enginetest.ExecProcess) int {
		switch {
		case x.ContainerID == "c-db" && strings.Contains(x.Cmd[len(x.Cmd)-1], "pg_dumpall"):
			_, _ = io.WriteString(x.Stdout, dump)
			return code
		case x.ContainerID == "c-db" && other != nil:
			return other(x)
		}
		fmt.Fprintf(x.Stderr, "no fake exec for %q in %s", x.Cmd, x.ContainerID)
		return 127
	}
	rst = enginetest.NewRestic()
	rst.Reply("backup", enginetest.Reply{Stdout: `{"message_type":"summary","files_new":1,"total_bytes_processed":42,"snapshot_id":"abcdef1234567890"}` + "\n"})
	f.eng.Swarm.Job = func(j *enginetest.Job) int {
		if j.Spec.Labels[helper.LabelService] != "db" {
			return 1
		}
		return j.Agent(node, rst)
	}
	return f, node, rst
}

// upDB runs up of service db on the fixture's stack and returns its one result.
func upDB(t *testing.T, f *fixture) report.Service {
	t.Helper()
	rep, _ := f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"db"}}, f.sink())
	if len(rep.Services) != 1 {
		t.Fatalf("up: %+v, want db's result", rep.Services)
	}
	return rep.Services[0]
}

// On a stack, a dump runs as a job on the node of the service's task, with that node's
// socket: the agent checks that the socket is that node's engine, execs the dump in the
// task's container there and streams it into restic in the job. The manager execs no
// dump; the job's spec shows neither the dump command nor a secret, and it is
// removed with its secrets.
func TestStackUpDumpAsJob(t *testing.T) {
	const dump = "CREATE TABLE notes;\nINSERT INTO notes VALUES (1);\n"
	f, node, rst := stackDumpFixture(t, dump, 0)
	res := upDB(t, f)
	if res.Status != report.StatusOK || res.Snapshot != "abcdef12" && res.Snapshot != "abcdef1234567890" {
		t.Fatalf("db: %+v, want ok with snapshot abcdef12", res)
	}
	backups := rst.Find("backup")
	if len(backups) != 1 || backups[0].Stdin != dump || backups[0].StdinErr != nil {
		t.Fatalf("restic in the job ran %v, read %+v: want one backup of the whole dump", rst.Commands(), backups)
	}
	args := strings.Join(backups[0].Args, " ")
	for _, want := range []string{"--stdin-from-command", "--host shop@swarm-", "node=worker-1", "--stdin-filename"} {
		if !strings.Contains(args, want) {
			t.Errorf("restic's arguments %q: want %q", args, want)
		}
	}
	if x := f.eng.CallsWith("exec c-db"); len(x) > 0 {
		t.Errorf("the manager's engine ran the dump: %v", x)
	}
	if x := node.CallsWith("exec c-db"); len(x) != 1 {
		t.Errorf("worker-1's engine ran %v, want the dump in c-db", node.CallsWith("exec"))
	}

	sw := f.eng.Swarm
	j := jobOf(t, sw, "db")
	spec, _ := json.Marshal(j.Spec)
	for _, secret := range []string{"s3cret", "key-never-shown", "minio.example", "pg_dumpall"} {
		if strings.Contains(string(spec), secret) {
			t.Errorf("the job's spec shows %q:\n%s", secret, spec)
		}
	}
	cs := j.Spec.TaskTemplate.ContainerSpec
	if !slices.Equal(j.Spec.TaskTemplate.Placement.Constraints, []string{"node.id==" + w1node}) {
		t.Errorf("the dump job is placed by %q, want on worker-1", j.Spec.TaskTemplate.Placement.Constraints)
	}
	if !slices.ContainsFunc(cs.Mounts, func(m mount.Mount) bool {
		return m.Type == mount.TypeBind && m.Source == "/var/run/docker.sock" && m.Target == agent.EngineSocket
	}) {
		t.Errorf("the dump job does not bind its node's socket: %+v", cs.Mounts)
	}
	if got, want := string(j.Secrets[agent.EngineIDFile]), string(engine.NodeIdentity(w1node).Marshal()); got != want {
		t.Errorf("the dump job checks its socket against %s, want worker-1's node %s", got, want)
	}
	if !slices.Contains(cs.Env, agent.UnheldEnv+"=1") {
		t.Errorf("the dump job's environment %q does not say that nobody holds its input", cs.Env)
	}
	if !j.Removed || sw.SecretCount() != 0 {
		t.Errorf("left: job removed %v, %d secrets", j.Removed, sw.SecretCount())
	}
}

// A dump that fails in the job fails the service as on one engine, and restic in the
// job commits nothing.
func TestStackUpDumpFailsInJob(t *testing.T) {
	f, _, rst := stackDumpFixture(t, "CREATE TABLE notes;\n", 3)
	res := upDB(t, f)
	if res.Status != report.StatusFailed || !strings.Contains(res.Error, "the dump command exited with code 3") {
		t.Fatalf("db: %+v, want failed: the dump command exited with code 3", res)
	}
	if b := rst.Find("backup"); len(b) != 1 || b[0].StdinErr == nil {
		t.Errorf("restic's input ended cleanly after a failed dump: a snapshot would be committed: %+v", b)
	}
	if j := jobOf(t, f.eng.Swarm, "db"); !j.Removed || f.eng.Swarm.SecretCount() != 0 {
		t.Errorf("left: job removed %v, %d secrets", j.Removed, f.eng.Swarm.SecretCount())
	}
}

// A socket on the node that is not that node's engine (another dockerd of the node)
// is one line naming the setting, the socket and the node; nothing is exec'd.
func TestStackUpDumpWrongNodeSocket(t *testing.T) {
	f, node, rst := stackDumpFixture(t, "x", 0)
	node.SystemInfo.Swarm.NodeID = "w2node0000000000000000000"
	res := upDB(t, f)
	want := "x-backup.docker_socket: /var/run/docker.sock (the default) on node " + w1node + " is the socket of another engine (node w2node0000000000000000000)"
	if res.Status != report.StatusFailed || !strings.Contains(res.Error, want) || strings.Contains(res.Error, "\n") {
		t.Fatalf("db: %+v\nwant one line beginning %q", res, want)
	}
	if x := node.CallsWith("exec"); len(x) > 0 || len(rst.Find("backup")) > 0 {
		t.Errorf("the node ran %v and restic %v after a wrong socket", x, rst.Commands())
	}
}

// On a stack, a service's hooks run in its task's container on its node, each as a job
// with the node's socket (agent hook), in the same order and with the same outcomes as
// on one engine: here a failing post hook makes the backup a warning. No hook command
// shows in a job's spec, and every job is removed.
func TestStackUpHooksAsJobs(t *testing.T) {
	compose := strings.Replace(stackS3Compose, "x-backup: {dump: pg_dumpall -U postgres}",
		"x-backup: {dump: pg_dumpall -U postgres, pre: 'echo pre-hook', post: 'echo post-hook', on_success: 'echo success-hook'}", 1)
	var ran []string
	f, node, _ := stackDumpFixtureOf(t, compose, "CREATE TABLE notes;\n", 0, func(x *enginetest.ExecProcess) int {
		cmd := x.Cmd[len(x.Cmd)-1]
		ran = append(ran, cmd)
		if cmd == "echo post-hook" {
			fmt.Fprintln(x.Stderr, "the post hook broke")
			return 4
		}
		return 0
	})
	var done *report.Result
	_, _ = f.app.Up(context.Background(), UpOptions{Load: f.load(), Services: []string{"db"}}, SinkFunc(func(e Event) {
		if e.Kind == Done && e.Service == "db" {
			done = e.Result
		}
	}))
	const warning = "post hook 1 exited with code 4: the post hook broke"
	if done == nil || done.Status != report.StatusWarning || !slices.Contains(done.Warnings, warning) {
		t.Fatalf("db: %+v, want a warning %q", done, warning)
	}
	if want := []string{"echo pre-hook", "echo post-hook", "echo success-hook"}; !slices.Equal(ran, want) {
		t.Errorf("hooks ran %q on worker-1, want %q", ran, want)
	}
	if x := f.eng.CallsWith("exec c-db"); len(x) > 0 {
		t.Errorf("the manager's engine ran hooks: %v", x)
	}
	if x := node.CallsWith("exec c-db"); len(x) != 4 {
		t.Errorf("worker-1's engine ran %v, want the dump and 3 hooks in c-db", x)
	}
	sw := f.eng.Swarm
	hooks := 0
	for _, j := range sw.Jobs {
		spec, _ := json.Marshal(j.Spec)
		if strings.Contains(string(spec), "echo ") {
			t.Errorf("a job's spec shows a hook command:\n%s", spec)
		}
		if !j.Removed {
			t.Errorf("job %s left", j.Spec.Name)
		}
		if j.Spec.Labels[helper.LabelKind] != helper.KindHook {
			continue
		}
		hooks++
		if !slices.Equal(j.Spec.TaskTemplate.Placement.Constraints, []string{"node.id==" + w1node}) {
			t.Errorf("a hook job is placed by %q, want on worker-1", j.Spec.TaskTemplate.Placement.Constraints)
		}
	}
	if hooks != 3 || sw.SecretCount() != 0 {
		t.Errorf("%d hook jobs, %d secrets left; want 3 jobs, none left", hooks, sw.SecretCount())
	}
}

// What a dump on a stack prints is masked with the service's environment as its swarm
// spec sets it (its containers are on a node this process does not reach), as on one
// engine with its containers'.
func TestStackUpDumpMasksServiceEnv(t *testing.T) {
	f, node, _ := stackDumpFixture(t, "", 0)
	for i := range f.eng.Swarm.Services {
		if s := &f.eng.Swarm.Services[i]; s.Spec.Name == "shop_db" {
			s.Spec.TaskTemplate.ContainerSpec.Env = []string{"POSTGRES_PASSWORD=pg-never-shown"}
		}
	}
	node.Exec = func(x *enginetest.ExecProcess) int {
		fmt.Fprintln(x.Stderr, "password pg-never-shown rejected")
		return 2
	}
	res := upDB(t, f)
	if res.Status != report.StatusFailed || !strings.Contains(res.Error, "exited with code 2: password *** rejected") {
		t.Fatalf("db: %+v, want failed with the password masked", res)
	}
}
