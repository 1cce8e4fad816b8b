package restic

import (
	"errors"
	"strings"
	"testing"
)

// restic 0.18's words when another process holds the lock.
const lockedByAbc = "unable to create lock in backend: repository is already locked exclusively by PID 7 on docker-backup-abc by root (UID 0, GID 0)\n" +
	"lock was created at 2026-11-25 14:20:00 (3.123456s ago)\nstorage ID 1234abcd"

func TestLockHolderFromResticMessage(t *testing.T) {
	for name, stderr := range map[string]string{
		"plain": lockedByAbc + "\n",
		"exit_error": `{"message_type":"exit_error","code":11,"message":"Fatal: ` +
			strings.ReplaceAll(lockedByAbc, "\n", `\n`) + `\nthe ` + "`unlock`" + ` command can be used to remove stale locks"}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			err := ErrorForExit(11, stderr)
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("err %v, want ErrLocked", err)
			}
			var ee *ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("err %T, want *ExitError", err)
			}
			h, ok := ee.Holder()
			want := LockHolder{Host: "docker-backup-abc", PID: 7, User: "root", Exclusive: true, Age: "3s", CreatedAt: "2026-11-25 14:20:00"}
			if !ok || h != want {
				t.Errorf("holder %+v (%v), want %+v", h, ok, want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q spans several lines, want one", msg)
			}
			for _, part := range []string{"docker-backup-abc", "PID 7", "3s ago", "exclusive", "--retry-lock"} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q lacks %q", msg, part)
				}
			}
		})
	}
}

func TestLockHolderOnlyForExitCode11(t *testing.T) {
	ee := &ExitError{Code: 1, Message: lockedByAbc}
	if _, ok := ee.Holder(); ok {
		t.Error("a holder was read from a failure that is not a lock failure")
	}
	ee = &ExitError{Code: 11, Message: "repository is already locked by PID 9 on host2 by bob (UID 1000, GID 1000)"}
	h, ok := ee.Holder()
	if !ok || h.Exclusive || h.PID != 9 || h.Host != "host2" || h.Age != "" {
		t.Errorf("holder %+v (%v), want a shared lock of PID 9 on host2 without age", h, ok)
	}
	if got := h.String(); !strings.Contains(got, "a lock is held by PID 9 on host host2") || strings.Contains(got, "ago") {
		t.Errorf("holder line %q", got)
	}
}

func TestRoundAge(t *testing.T) {
	for in, want := range map[string]string{"3.123456s": "3s", "3m2.5s": "3m2s", "1h0m0s": "1h0m0s",
		"69.406ms": "less than a second", "5µs": "less than a second", "soon": "soon"} {
		if got := roundAge(in); got != want {
			t.Errorf("roundAge(%q) = %q, want %q", in, got, want)
		}
	}
}

// Without --json, restic ends a lock failure with advice lines; the holder must survive.
func TestLockHolderFromPlainStderr(t *testing.T) {
	stderr := "repo already locked, waiting up to 0s for the lock\n" +
		"unable to create lock in backend: repository is already locked exclusively by PID 7 on docker-backup-abc by root (UID 0, GID 0)\n" +
		"lock was created at 2026-11-25 14:20:00 (3m2.5s ago)\n" +
		"storage ID 1234abcd\n" +
		"the `unlock` command can be used to remove stale locks\n"
	err := ErrorForExit(11, stderr)
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("err %v, want an *ExitError", err)
	}
	h, ok := ee.Holder()
	if !ok || h.PID != 7 || h.Host != "docker-backup-abc" || !h.Exclusive || h.Age != "3m2s" {
		t.Fatalf("holder %+v (%v)", h, ok)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "held by PID 7 on host docker-backup-abc, created 3m2s ago") {
		t.Errorf("one line naming the holder, got %q", msg)
	}
}

// restic restore ends with "There were 1 errors"; the error lines before it say which.
func TestErrorLinesKept(t *testing.T) {
	stderr := `{"message_type":"error","error":{"message":"open /backup/app/conf.txt: is a directory"},"during":"restore","item":"/backup/app/conf.txt"}` + "\n" +
		`{"message_type":"exit_error","code":1,"message":"Fatal: There were 1 errors"}` + "\n"
	got := ErrorForExit(1, stderr).Error()
	want := "There were 1 errors; open /backup/app/conf.txt: is a directory"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var many strings.Builder
	for i := range 5 {
		many.WriteString(`{"message_type":"error","error":{"message":"boom"},"item":"/f` + string(rune('0'+i)) + `"}` + "\n")
	}
	many.WriteString("Fatal: There were 5 errors\n")
	got = ErrorForExit(1, many.String()).Error()
	want = "There were 5 errors; /f0: boom; /f1: boom; /f2: boom; and 2 more"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
