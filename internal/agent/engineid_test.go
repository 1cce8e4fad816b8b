package agent_test

import (
	"errors"
	"io"
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

// engineCheck runs a socket command of the agent with the engine's ID file (none when
// id is empty) on the fake engine eng, whose socket may be another engine's.
func engineCheck(eng *enginetest.Engine, id string, entrypoint []string, files map[string]string) (int, string) {
	if id != "" {
		files[agent.EngineIDFile] = string(engine.Identity{ID: id, RootDir: "/var/lib/docker"}.Marshal())
	}
	var stderr strings.Builder
	p := &enginetest.Process{
		Container: enginetest.Container{Config: container.Config{Entrypoint: entrypoint}, Files: files},
		Stdin:     strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
	}
	return eng.Agent(enginetest.NewRestic(), p), stderr.String()
}

// The agent asks its socket who it is before it does anything: the plugin's engine
// passes, another engine (or none) is ExitWrongEngine with a line the plugin reads back.
func TestAgentChecksTheEngineBehindItsSocket(t *testing.T) {
	spec := dump.Spec{Container: "c1", Cmd: []string{"pg_dumpall"}}
	commands := map[string][]string{
		"engine-check": {"/usr/local/bin/docker-backup", agent.Command, agent.EngineCheckCommand},
		"dump":         {"/usr/local/bin/docker-backup", agent.Command, agent.DumpCommand, "--spec", dump.SpecFile, "backup", "--stdin"},
		"dump-restore": {"/usr/local/bin/docker-backup", agent.Command, agent.DumpRestoreCommand, "--spec", dump.SpecFile, "dump", "latest", "/db.sql"},
	}
	for name, ep := range commands {
		t.Run(name, func(t *testing.T) {
			eng := enginetest.New(t)
			eng.SystemInfo = system.Info{ID: "AAAA", DockerRootDir: "/var/lib/docker"}
			other := enginetest.New(t)
			other.SystemInfo = system.Info{ID: "BBBB", DockerRootDir: "/var/lib/docker"}
			eng.Socket = other
			code, stderr := engineCheck(eng, "AAAA", ep, map[string]string{dump.SpecFile: string(spec.Marshal())})
			var wrong *agent.WrongEngine
			if err := agent.ParseSocketFailure(code, stderr); code != agent.ExitWrongEngine || !errors.As(err, &wrong) || wrong.Want.ID != "AAAA" || wrong.Got.ID != "BBBB" {
				t.Fatalf("exit %d, stderr %q: want the socket of another engine", code, stderr)
			}
			if execs := append(eng.CallsWith("exec"), other.CallsWith("exec")...); len(execs) > 0 {
				t.Errorf("execs %v before the check", execs)
			}

			other.Fail("info", errors.New("connection refused"))
			code, stderr = engineCheck(eng, "AAAA", ep, map[string]string{dump.SpecFile: string(spec.Marshal())})
			if err := agent.ParseSocketFailure(code, stderr); err == nil || !strings.Contains(err.Error(), "does not answer as a docker engine") {
				t.Errorf("mute socket: exit %d, stderr %q", code, stderr)
			}
		})
	}
	eng := enginetest.New(t)
	eng.SystemInfo = system.Info{ID: "AAAA", DockerRootDir: "/var/lib/docker"}
	if code, stderr := engineCheck(eng, "AAAA", commands["engine-check"], map[string]string{}); code != 0 {
		t.Errorf("the engine's own socket: exit %d, stderr %q", code, stderr)
	}
	// No ID sent: nothing to compare with.
	eng.Socket = enginetest.New(t)
	if code, stderr := engineCheck(eng, "", commands["engine-check"], map[string]string{}); code != 0 {
		t.Errorf("no ID: exit %d, stderr %q", code, stderr)
	}
	if err := agent.ParseSocketFailure(1, "the socket answers as engine ID B, not ID A"); err != nil {
		t.Errorf("exit 1 read as a socket failure: %v", err)
	}
}

// A swarm job's socket is checked against its node: the engine behind it must report
// that swarm node ID (a manager knows no node's engine ID or data root).
func TestAgentChecksTheNodeBehindAJobSocket(t *testing.T) {
	ep := []string{"/usr/local/bin/docker-backup", agent.Command, agent.EngineCheckCommand}
	for name, tc := range map[string]struct {
		node string
		ok   bool
	}{"the node's engine": {"NODE1", true}, "another node's": {"NODE2", false}, "in no swarm": {"", false}} {
		t.Run(name, func(t *testing.T) {
			eng := enginetest.New(t)
			eng.SystemInfo = system.Info{ID: "AAAA", DockerRootDir: "/var/lib/docker"}
			if tc.node != "" {
				eng.SystemInfo.Swarm = swarm.Info{NodeID: tc.node, LocalNodeState: swarm.LocalNodeStateActive}
			}
			files := map[string]string{agent.EngineIDFile: string(engine.NodeIdentity("NODE1").Marshal())}
			var stderr strings.Builder
			p := &enginetest.Process{Container: enginetest.Container{Config: container.Config{Entrypoint: ep}, Files: files},
				Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr}
			code := eng.Agent(enginetest.NewRestic(), p)
			var wrong *agent.WrongEngine
			switch err := agent.ParseSocketFailure(code, stderr.String()); {
			case tc.ok && code != 0:
				t.Errorf("exit %d, stderr %q: want the node's socket to pass", code, stderr.String())
			case !tc.ok && (!errors.As(err, &wrong) || wrong.Got.NodeID != tc.node || wrong.Want.NodeID != "NODE1"):
				t.Errorf("exit %d, stderr %q: want another node's socket refused", code, stderr.String())
			}
		})
	}
}
