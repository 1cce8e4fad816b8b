// Package restic drives the restic binary in helper containers: the Runner seam, the
// helper-container runner, restic's JSON messages, and its exit codes as errors.
package restic

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors for restic's documented exit codes.
var (
	// ErrFailed is any failure without a more precise code.
	ErrFailed = errors.New("restic failed")
	// ErrIncomplete means some source data could not be read; the snapshot was made (exit 3).
	ErrIncomplete = errors.New("some files could not be read")
	// ErrRepoNotFound means the repository does not exist (exit 10).
	ErrRepoNotFound = errors.New("repository does not exist")
	// ErrLocked means the repository is locked by another process (exit 11).
	ErrLocked = errors.New("repository is locked")
	// ErrWrongPassword means the password does not open the repository (exit 12).
	ErrWrongPassword = errors.New("wrong password or no key found")
	// ErrInterrupted means restic was interrupted (exit 130).
	ErrInterrupted = errors.New("interrupted")
)

// ExitError is a restic run that exited non-zero.
type ExitError struct {
	Code    int
	Message string // restic's own words: the exit_error message or the last stderr lines
}

func (e *ExitError) Error() string {
	msg, kind := strings.TrimPrefix(strings.TrimSpace(e.Message), "Fatal: "), e.Unwrap()
	msg = strings.ReplaceAll(msg, "\n", "; ")
	if h, ok := e.Holder(); ok {
		return h.String()
	}
	switch {
	case msg == "":
		return fmt.Sprintf("%s (exit code %d)", kind, e.Code)
	case kind == ErrFailed || strings.Contains(msg, kind.Error()):
		return msg
	default:
		return fmt.Sprintf("%s: %s", kind, msg)
	}
}

// Unwrap gives the sentinel for the exit code, so errors.Is matches it.
func (e *ExitError) Unwrap() error {
	switch e.Code {
	case 3:
		return ErrIncomplete
	case 10:
		return ErrRepoNotFound
	case 11:
		return ErrLocked
	case 12:
		return ErrWrongPassword
	case 130:
		return ErrInterrupted
	default:
		return ErrFailed
	}
}

// ErrorForExit is the error for restic's exit code and its stderr: nil for 0, else an
// *ExitError with restic's message.
func ErrorForExit(code int, stderr string) error {
	return exitError(code, stderrMessage(stderr))
}

// stderrMessage extracts restic's message from its stderr: the exit_error JSON if there
// is one, else the last non-empty lines, and the lines that name a lock's holder (restic
// prints them before its advice, which would push them out). restic's own error lines
// (message_type "error": a file it could not restore…) come first: its closing words
// ("There were 1 errors") say only how many there were.
func stderrMessage(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	items := errorItems(lines)
	for i := len(lines) - 1; i >= 0; i-- {
		var m exitErrorMessage
		var head struct {
			MessageType string `json:"message_type"`
		}
		if json.Unmarshal([]byte(lines[i]), &head) == nil && head.MessageType == "exit_error" && json.Unmarshal([]byte(lines[i]), &m) == nil {
			return joinItems(strings.TrimSpace(m.Message), items)
		}
	}
	var keep []string
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "{") {
			continue
		}
		if len(keep) < 3 || lockedByRE.MatchString(l) || lockCreated.MatchString(l) {
			keep = append([]string{l}, keep...)
		}
	}
	return joinItems(strings.Join(keep, "\n"), items)
}

// maxErrorItems is how many of restic's error lines a message repeats.
const maxErrorItems = 3

// errorItems reads restic's error lines (JSON, message_type "error") as "item: message",
// the first maxErrorItems of them and a count of the rest.
func errorItems(lines []string) []string {
	var items []string
	n := 0
	for _, l := range lines {
		var e struct {
			MessageType string `json:"message_type"`
			ErrorItem
		}
		if !strings.HasPrefix(l, "{") || json.Unmarshal([]byte(l), &e) != nil || e.MessageType != "error" || e.Error.Message == "" {
			continue
		}
		n++
		if len(items) < maxErrorItems {
			item := e.Error.Message
			if e.Item != "" && !strings.Contains(item, e.Item) {
				item = e.Item + ": " + item
			}
			items = append(items, item)
		}
	}
	if n > len(items) {
		items = append(items, fmt.Sprintf("and %d more", n-len(items)))
	}
	return items
}

// joinItems puts restic's error lines after its closing message.
func joinItems(msg string, items []string) string {
	if len(items) == 0 {
		return msg
	}
	return strings.TrimSpace(msg + "\n" + strings.Join(items, "\n"))
}

// exitError is the error for restic's exit code: nil for 0.
func exitError(code int, message string) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code, Message: message}
}

// LockHolder is who holds the lock that stopped a command (exit code 11), as restic
// reports it.
type LockHolder struct {
	Host      string
	PID       int
	User      string
	Exclusive bool
	// Age is restic's own "… ago" text; CreatedAt its timestamp text.
	Age, CreatedAt string
}

// String is one line for the user: who holds the lock, since when, and what to do.
func (h LockHolder) String() string {
	kind := "a lock"
	if h.Exclusive {
		kind = "an exclusive lock"
	}
	line := fmt.Sprintf("repository is locked: %s is held by PID %d on host %s", kind, h.PID, h.Host)
	if h.Age != "" {
		line += fmt.Sprintf(", created %s ago", h.Age)
	}
	return line + " (it is not removed while it may be in use; wait for it with --retry-lock DURATION)"
}

var (
	lockedByRE  = regexp.MustCompile(`locked (exclusively )?by PID (\d+) on (\S+) by (\S+)`)
	lockCreated = regexp.MustCompile(`lock was created at ([0-9-]+ [0-9:]+) \(([^)]*?) ago\)`)
)

// Holder reads the lock holder from restic's message, for a command that failed
// because the repository is locked.
func (e *ExitError) Holder() (LockHolder, bool) {
	m := lockedByRE.FindStringSubmatch(e.Message)
	if e.Code != 11 || m == nil {
		return LockHolder{}, false
	}
	pid, _ := strconv.Atoi(m[2])
	h := LockHolder{Exclusive: m[1] != "", PID: pid, Host: m[3], User: m[4]}
	if c := lockCreated.FindStringSubmatch(e.Message); c != nil {
		h.CreatedAt, h.Age = c[1], roundAge(c[2])
	}
	return h, true
}

// roundAge shortens Go's duration text (3m2.123456s, 69.4ms) to whole seconds.
func roundAge(s string) string {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return s
	case d < time.Second:
		return "less than a second"
	}
	return d.Truncate(time.Second).String()
}
