package agent_test

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

// helper is a dump helper of the fake engine, run by hand: the agent's command with a
// spec file, an input the test holds open (the plugin), and its output kept.
type helper struct {
	eng    *enginetest.Engine
	rst    *enginetest.Restic
	in     *io.PipeWriter
	stdout strings.Builder
	stderr syncBuilder
}

func newHelper(t *testing.T) *helper {
	h := &helper{eng: enginetest.New(t), rst: enginetest.NewRestic()}
	h.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
	return h
}

// run runs `agent COMMAND --spec FILE ARGS…` with spec and returns its exit code.
func (h *helper) run(command string, spec dump.Spec, args ...string) int {
	pr, pw := io.Pipe()
	h.in = pw
	p := &enginetest.Process{
		Container: enginetest.Container{
			Config: container.Config{
				Entrypoint: []string{"/usr/local/bin/docker-backup", agent.Command, command, "--spec", dump.SpecFile},
				Cmd:        args,
			},
			Files: map[string]string{dump.SpecFile: string(spec.Marshal())},
		},
		Stdin: pr, Stdout: &h.stdout, Stderr: &h.stderr,
	}
	return h.eng.Agent(h.rst, p)
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var pgCheck = &dump.Check{Tool: "pg_dumpall", End: "-- PostgreSQL database cluster dump complete"}

func TestDumpFeedsResticOnTheEngine(t *testing.T) {
	h := newHelper(t)
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.WriteString(x.Stdout, "CREATE TABLE t;\n-- PostgreSQL database cluster dump complete\n")
		return 0
	}
	h.rst.Reply("backup", enginetest.Reply{Stdout: `{"message_type":"summary","snapshot_id":"abc"}` + "\n"})
	code := h.run(agent.DumpCommand, dump.Spec{Container: "c1", User: "postgres", Cmd: []string{"pg_dumpall"}, Check: pgCheck},
		"backup", "--stdin-from-command", "--stdin-filename", "db.sql")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, h.stderr.String())
	}
	b := h.rst.Find("backup")
	if len(b) != 1 || b[0].StdinErr != nil || !strings.HasSuffix(b[0].Stdin, "cluster dump complete\n") {
		t.Fatalf("restic ran %v and read %+v: want the whole dump, its input ended", h.rst.Commands(), b)
	}
	if !strings.Contains(h.stdout.String(), `"snapshot_id":"abc"`) {
		t.Errorf("restic's JSON did not reach the helper's output: %q", h.stdout.String())
	}
	if got := h.eng.CallsWith("exec "); len(got) != 1 || got[0] != "exec c1 pg_dumpall" {
		t.Errorf("execs %q, want the dump in the service's container", got)
	}
}

// A failed dump stops restic before its input ends, and says why in one line that the
// plugin reads back.
func TestDumpFailsClosed(t *testing.T) {
	for name, tc := range map[string]struct {
		stdout, stderr string
		code           int
		want           string
		cutOff         bool
	}{
		"exit code": {stdout: "partial", stderr: "pg_dump: error: connection lost\nsecond line\n", code: 2,
			want: "the dump command exited with code 2: pg_dump: error: connection lost | second line"},
		"nothing": {want: "the dump command wrote nothing"},
		"cut off": {stdout: "CREATE TABLE t;\n", want: `the dump ended without pg_dumpall's end marker "-- PostgreSQL database cluster dump complete": it was cut off`, cutOff: true},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHelper(t)
			h.eng.Exec = func(x *enginetest.ExecProcess) int {
				_, _ = io.WriteString(x.Stdout, tc.stdout)
				_, _ = io.WriteString(x.Stderr, tc.stderr)
				return tc.code
			}
			code := h.run(agent.DumpCommand, dump.Spec{Container: "c1", Cmd: []string{"pg_dumpall"}, Check: pgCheck}, "backup", "--stdin-from-command")
			f := dump.ParseFailure(code, h.stderr.String())
			if f == nil || f.Message != tc.want || f.CutOff != tc.cutOff {
				t.Fatalf("exit %d, stderr %q: want the failure %q", code, h.stderr.String(), tc.want)
			}
			if b := h.rst.Find("backup"); len(b) != 1 || b[0].StdinErr == nil {
				t.Errorf("restic's input ended cleanly after a failed dump: it would commit")
			}
		})
	}
}

// The plugin's end (the helper's held input ends) ends the dump in its container and
// restic without a snapshot.
func TestDumpEndsWithThePlugin(t *testing.T) {
	h := newHelper(t)
	started, killed := make(chan struct{}), make(chan struct{})
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.WriteString(x.Stdout, "CREATE TABLE t;\n")
		close(started)
		<-x.Killed
		close(killed)
		return 143
	}
	go func() {
		<-started
		h.in.Close()
	}()
	done := make(chan int)
	go func() {
		done <- h.run(agent.DumpCommand, dump.Spec{Container: "c1", Cmd: []string{"slow"}}, "backup", "--stdin-from-command")
	}()
	select {
	case code := <-done:
		if code != agent.ExitInterrupted {
			t.Errorf("exit %d, stderr %q: want interrupted", code, h.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not end with its input")
	}
	select {
	case <-killed:
	default:
		t.Error("the dump was not ended in its container")
	}
	if b := h.rst.Find("backup"); len(b) != 1 || b[0].StdinErr == nil {
		t.Errorf("restic's input ended cleanly: it would commit a cut-off dump")
	}
}

// restic failing on its own (a lock) passes its exit code on, with no dump failure.
func TestDumpPassesResticsFailureOn(t *testing.T) {
	h := newHelper(t)
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.WriteString(x.Stdout, "CREATE TABLE t;\n")
		return 0
	}
	h.rst.Reply("backup", enginetest.Reply{Stderr: "Fatal: unable to create lock\n", Code: 11})
	if code := h.run(agent.DumpCommand, dump.Spec{Container: "c1", Cmd: []string{"d"}}, "backup", "--stdin-from-command"); code != 11 {
		t.Errorf("exit %d, stderr %q: want restic's 11", code, h.stderr.String())
	}
}

func TestDumpRestoreFeedsTheRestoreCommand(t *testing.T) {
	h := newHelper(t)
	var got strings.Builder
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.Copy(&got, x.Stdin)
		return 0
	}
	h.rst.Reply("dump", enginetest.Reply{Stdout: "CREATE TABLE t;\n"})
	if code := h.run(agent.DumpRestoreCommand, dump.Spec{Container: "c1", Cmd: []string{"psql"}}, "dump", "snap", "/db.sql"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, h.stderr.String())
	}
	if got.String() != "CREATE TABLE t;\n" {
		t.Errorf("the restore command read %q", got.String())
	}
}

// For the restore drill, a dump restore reports the databases its dump named, once the
// restore command has succeeded.
func TestDumpRestoreReportsTheDumpsDatabases(t *testing.T) {
	h := newHelper(t)
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.Copy(io.Discard, x.Stdin)
		return 0
	}
	h.rst.Reply("dump", enginetest.Reply{Stdout: "CREATE DATABASE appdb;\n\\connect appdb\nCREATE TABLE t (x int);\n"})
	spec := dump.Spec{Container: "c1", Cmd: []string{"psql"}, ReportNames: true}
	if code := h.run(agent.DumpRestoreCommand, spec, "dump", "snap", "/db.sql"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, h.stderr.String())
	}
	names, err := dump.ParseNames([]byte(h.stdout.String()))
	if err != nil || strings.Join(names.Databases, ",") != "appdb" {
		t.Errorf("want the report [appdb], got %v, %v from %q", names.Databases, err, h.stdout.String())
	}
}

// A dump that breaks off ends the restore command before its input closes: it reads a
// failure, never an end.
func TestDumpRestoreBreakingOffEndsTheCommandFirst(t *testing.T) {
	h := newHelper(t)
	var mu sync.Mutex
	applied := false
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		read := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, x.Stdin)
			read <- err
		}()
		select {
		case err := <-read:
			if err == nil {
				mu.Lock()
				applied = true // it would apply what it read as a whole dump
				mu.Unlock()
				return 0
			}
			<-x.Killed
		case <-x.Killed:
		}
		return 143
	}
	h.rst.Reply("dump", enginetest.Reply{Stdout: "CREATE TABLE t;\n", Stderr: "Fatal: pack abc: unexpected EOF\n", Code: 1})
	code := h.run(agent.DumpRestoreCommand, dump.Spec{Container: "c1", Cmd: []string{"psql"}}, "dump", "snap", "/db.sql")
	f := dump.ParseFailure(code, h.stderr.String())
	if f == nil || !strings.HasPrefix(f.Message, "the dump broke off after the restore command had started") || !strings.Contains(f.Message, "unexpected EOF") {
		t.Fatalf("exit %d, stderr %q: want the broken-off dump", code, h.stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if applied {
		t.Errorf("the restore command read the end of its input: it took a cut-off dump for a whole one")
	}
	if len(h.eng.CallsWith("kill-exec c1")) == 0 {
		t.Errorf("calls %q: the restore command was not ended in its container", h.eng.Calls())
	}
}

func TestDumpRestoreUnreadableNeverStartsTheCommand(t *testing.T) {
	h := newHelper(t)
	h.rst.Reply("dump", enginetest.Reply{Stderr: "Fatal: wrong password\n", Code: 12})
	if code := h.run(agent.DumpRestoreCommand, dump.Spec{Container: "c1", Cmd: []string{"psql"}}, "dump", "snap", "/db.sql"); code != 12 {
		t.Errorf("exit %d, want restic's 12", code)
	}
	if got := h.eng.CallsWith("exec "); len(got) != 0 {
		t.Errorf("execs %q: the restore command ran", got)
	}
}

// restic that fails before it runs the relay (a lock held exclusively, the repository)
// never sees a dump start: nothing holds a transaction while restic waits.
func TestDumpStartsOnlyOnceResticReadsIt(t *testing.T) {
	h := newHelper(t)
	h.eng.Exec = func(x *enginetest.ExecProcess) int {
		_, _ = io.WriteString(x.Stdout, "CREATE TABLE t;\n")
		return 0
	}
	h.rst.Early("backup", enginetest.Reply{Stderr: "Fatal: unable to create lock in backend: repository is already locked exclusively by PID 7 on other by root (UID 0, GID 0)\n", Code: 11})
	if code := h.run(agent.DumpCommand, dump.Spec{Container: "c1", Cmd: []string{"d"}}, "backup", "--stdin-from-command"); code != 11 {
		t.Errorf("exit %d, stderr %q: want restic's 11", code, h.stderr.String())
	}
	if got := h.eng.CallsWith("exec "); len(got) != 0 {
		t.Errorf("execs %q: the dump ran while restic could not read it", got)
	}
}

// restic reading its own input would commit whatever reached it: the agent refuses
// to feed anything but its relay.
func TestDumpRefusesResticsOwnInput(t *testing.T) {
	h := newHelper(t)
	h.eng.Exec = func(x *enginetest.ExecProcess) int { return 0 }
	if code := h.run(agent.DumpCommand, dump.Spec{Container: "c1", Cmd: []string{"d"}}, "backup", "--stdin"); code != agent.ExitUsage {
		t.Errorf("exit %d, stderr %q: want a usage error", code, h.stderr.String())
	}
	if len(h.rst.Calls()) != 0 || len(h.eng.CallsWith("exec ")) != 0 {
		t.Errorf("restic ran %v, execs %q: want nothing run", h.rst.Commands(), h.eng.CallsWith("exec "))
	}
}
