package restic

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExitErrorMapsCodes(t *testing.T) {
	for code, want := range map[int]error{1: ErrFailed, 3: ErrIncomplete, 10: ErrRepoNotFound, 11: ErrLocked, 12: ErrWrongPassword, 130: ErrInterrupted, 77: ErrFailed} {
		err := exitError(code, "")
		if !errors.Is(err, want) {
			t.Errorf("exit code %d: %v, want %v", code, err, want)
		}
	}
	if exitError(0, "ignored") != nil {
		t.Error("exit code 0 is not an error")
	}
}

func TestExitErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		code   int
		stderr string
		want   string
	}{
		{12, `{"message_type":"exit_error","code":12,"message":"Fatal: wrong password or no key found"}`, "wrong password or no key found"},
		{11, "repo already locked, waiting up to 0s for the lock\nunable to create lock in backend: repository is already locked by PID 1 on docker-backup\n", "repository is locked: repo already locked, waiting up to 0s for the lock; unable to create lock in backend: repository is already locked by PID 1 on docker-backup"},
		{1, "", "restic failed (exit code 1)"},
	} {
		got := exitError(tc.code, stderrMessage(tc.stderr)).Error()
		if got != tc.want {
			t.Errorf("exit %d: %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestDecodeMessagesIgnoresUnknown(t *testing.T) {
	in := strings.Join([]string{
		`{"message_type":"status","percent_done":0.5,"bytes_done":10,"new_field":1}`,
		`not json`,
		`{"message_type":"verbose_status","action":"new"}`,
		`{"message_type":"error","error":{"message":"permission denied"},"during":"archival","item":"/backup/a"}`,
		`{"message_type":"summary","files_new":2,"snapshot_id":"abc"}`,
	}, "\n")
	var got []string
	err := decodeMessages(strings.NewReader(in), Events{
		Status:  func(s Status) { got = append(got, "status") },
		Error:   func(e ErrorItem) { got = append(got, "error "+e.Item) },
		Summary: func(s Summary) { got = append(got, "summary "+s.SnapshotID) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"status", "error /backup/a", "summary abc"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
