package agent_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// agent hook execs the spec's command in its container through the socket, once the
// socket is checked, and reports the command's exit code and stderr in one line; a
// swarm job's input that nobody holds (agent.UnheldEnv) does not end it.
func TestAgentHook(t *testing.T) {
	eng := enginetest.New(t)
	eng.SystemInfo = system.Info{ID: "AAAA", Swarm: swarm.Info{NodeID: "NODE1", LocalNodeState: swarm.LocalNodeStateActive}}
	eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	eng.Exec = func(x *enginetest.ExecProcess) int {
		fmt.Fprintf(x.Stdout, "ignored\n")
		fmt.Fprintf(x.Stderr, "ran %s in %s\n", strings.Join(x.Cmd, " "), x.ContainerID)
		return 3
	}
	spec := dump.Spec{Container: "c1", Cmd: []string{"sh", "-c", "echo pre"}}
	run := func(node string) (int, string, string) {
		var stdout, stderr strings.Builder
		p := &enginetest.Process{Container: enginetest.Container{
			Config: container.Config{
				Entrypoint: []string{"/usr/local/bin/docker-backup", agent.Command, agent.HookCommand, "--spec", dump.SpecFile},
				Env:        []string{agent.UnheldEnv + "=1"},
			},
			Files: map[string]string{dump.SpecFile: string(spec.Marshal()), agent.EngineIDFile: string(engine.NodeIdentity(node).Marshal())},
		}, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
		return eng.Agent(enginetest.NewRestic(), p), stdout.String(), stderr.String()
	}
	code, stdout, stderr := run("NODE1")
	res, err := agent.ParseHookResult(stdout)
	if code != 0 || err != nil || res.ExitCode != 3 || res.Stderr != "ran sh -c echo pre in c1\n" {
		t.Fatalf("exit %d, stdout %q (%+v, %v), stderr %q: want exit 0 and the hook's code 3 and stderr", code, stdout, res, err, stderr)
	}
	code, _, stderr = run("NODE2")
	if code != agent.ExitWrongEngine || len(eng.CallsWith("exec c1")) != 1 {
		t.Errorf("another node's socket: exit %d, stderr %q, execs %v", code, stderr, eng.CallsWith("exec"))
	}
}
