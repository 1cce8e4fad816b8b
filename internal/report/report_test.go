package report

import (
	"errors"
	"testing"
)

func TestOverall(t *testing.T) {
	for _, c := range []struct {
		err      error
		services []Service
		want     Status
	}{
		{nil, nil, StatusOK},
		{nil, []Service{{Status: StatusOK}, {Status: StatusSkipped}}, StatusOK},
		{nil, []Service{{Status: StatusWarning}, {Status: StatusOK}}, StatusWarning},
		{nil, []Service{{Status: StatusWarning}, {Status: StatusFailed}}, StatusFailed},
		{errors.New("no repository"), nil, StatusFailed},
	} {
		if got := Overall(c.err, c.services); got != c.want {
			t.Errorf("Overall(%v, %v) = %s, want %s", c.err, c.services, got, c.want)
		}
	}
}

// TestInterrupt: settled outcomes stay, begun services are interrupted without their
// cancelled errors, the others not begun; strategy none stays skipped.
func TestInterrupt(t *testing.T) {
	run := Run{Status: StatusFailed, Error: "context canceled", Services: []Service{
		{Service: "a", Status: StatusOK, Snapshot: "s1"},
		{Service: "b", Status: StatusFailed, Error: "context canceled"},
		{Service: "c", Status: StatusFailed, Error: "context canceled"},
		{Service: "d", Strategy: "none", Status: StatusSkipped},
	}}
	Interrupt(&run, func(s string) bool { return s != "c" }, func(s string) bool { return s == "a" })
	got := ""
	for _, s := range run.Services {
		got += s.Service + "=" + string(s.Status) + ":" + s.Error + " "
	}
	if want := "a=ok: b=interrupted: c=skipped:" + NotBegun + " d=skipped: "; got != want {
		t.Errorf("services %q, want %q", got, want)
	}
	if run.Status != StatusInterrupted || run.Error != "stopped before its end: b interrupted; c not begun" {
		t.Errorf("run %s %q", run.Status, run.Error)
	}
}
