package dump

import (
	"errors"
	"testing"
)

// The agent's failure line comes back as the same failure, whatever restic printed
// around it; other exit codes are restic's and carry none.
func TestFailureRoundTrip(t *testing.T) {
	f := &Failure{Message: "the dump command exited with code 2: pg_dump: error\nsecond", CutOff: true}
	stderr := "restic: signal interrupt received, cleaning up\n" + f.Line() + "\n"
	got := ParseFailure(f.ExitCode(), stderr)
	if got == nil || got.Message != "the dump command exited with code 2: pg_dump: error | second" || !errors.Is(got, ErrCutOff) {
		t.Fatalf("ParseFailure = %+v", got)
	}
	if ParseFailure(1, stderr) != nil || ParseFailure(ExitFailed, "Fatal: unable to open repository\n") != nil {
		t.Error("a failure parsed from restic's own exit")
	}
}

func TestSpecRoundTrip(t *testing.T) {
	s := Spec{Container: "c1", User: "postgres", Cmd: []string{"sh", "-c", "pg_dumpall"}, Check: &Check{Tool: "t", End: "END"}}
	got, err := ParseSpec(s.Marshal())
	if err != nil || got.Container != "c1" || got.Check == nil || got.Check.End != "END" || len(got.Cmd) != 3 {
		t.Fatalf("ParseSpec = %+v, %v", got, err)
	}
	if _, err := ParseSpec([]byte(`{"container":"c1"}`)); err == nil {
		t.Error("a spec without a command was accepted")
	}
}
