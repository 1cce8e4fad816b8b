package restic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Init creates the repository.
func Init(ctx context.Context, r Runner) error {
	if err := r.Run(ctx, Invocation{Args: []string{"init"}, Kind: "init"}); err != nil {
		return fmt.Errorf("creating the repository: %w", err)
	}
	return nil
}

// Open opens the repository with its password, taking no lock, and reports whether it
// exists: a wrong password is an error, not a missing repository.
func Open(ctx context.Context, r Runner) (bool, error) {
	err := r.Run(ctx, Invocation{Args: []string{"cat", "config", "--no-lock"}, Stdout: io.Discard, Kind: "open"})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrRepoNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("opening the repository: %w", err)
	}
}

// Unlock removes the locks restic itself calls stale: older than 30 minutes, or made on
// this hostname by a process that no longer exists. It never removes a live lock of
// another host (that is `unlock --remove-all`, which docker-backup never runs).
func Unlock(ctx context.Context, r Runner) error {
	if err := r.Run(ctx, Invocation{Args: []string{"unlock"}, Stdout: io.Discard, Kind: "unlock"}); err != nil {
		return fmt.Errorf("removing stale locks: %w", err)
	}
	return nil
}

// BackupOptions says what one backup stores.
type BackupOptions struct {
	Service string
	Kind    string
	Host    string
	Tags    []string
	// Paths are the folders to back up (the helper mounts them), or, with Stdin, unused.
	Paths    []string
	Mounts   []Mount
	Excludes []string
	// Stdin, with StdinFilename, backs up a stream instead of folders.
	Stdin         io.Reader
	StdinFilename string
	// StdinInHelper, with StdinFilename and no Stdin, backs up the output of a command
	// that the helper itself adds to restic's arguments (--stdin-from-command: a dump
	// helper, by its Kind, see the runner). restic commits it only when that command
	// exits 0; without a command, restic refuses to run.
	StdinInHelper bool
	// Files are placed in the helper (Invocation.Files).
	Files  []File
	Events Events
	// DryRun reads what would be stored and reports it in the summary, storing nothing
	// (restic backup --dry-run).
	DryRun bool
}

// BackupArgs are restic's arguments for the backup o describes (after "restic"), as
// Backup runs them and up --dry-run shows them.
func BackupArgs(o BackupOptions) []string {
	args := []string{"backup", "--json", "--host", o.Host}
	if o.DryRun {
		args = append(args, "--dry-run")
	}
	for _, t := range o.Tags {
		args = append(args, "--tag", t)
	}
	for _, e := range o.Excludes {
		args = append(args, "--exclude", e)
	}
	switch {
	case o.StdinInHelper:
		args = append(args, "--stdin-from-command", "--stdin-filename", o.StdinFilename)
	case o.Stdin != nil:
		args = append(args, "--stdin", "--stdin-filename", o.StdinFilename)
	default:
		args = append(args, o.Paths...)
	}
	return args
}

// Backup runs restic backup and returns its summary. An ErrIncomplete error comes with
// a summary: the snapshot was made. With o.DryRun nothing is stored: the summary says
// what would have been.
func Backup(ctx context.Context, r Runner, o BackupOptions) (Summary, error) {
	args := BackupArgs(o)
	var summary Summary
	ev := o.Events
	userSummary := ev.Summary
	ev.Summary = func(s Summary) {
		summary = s
		if userSummary != nil {
			userSummary(s)
		}
	}
	pr, pw := io.Pipe()
	decoded := make(chan error, 1)
	go func() {
		err := decodeMessages(pr, ev)
		_, _ = io.Copy(io.Discard, pr)
		decoded <- err
	}()
	err := r.Run(ctx, Invocation{
		Args: args, Mounts: o.Mounts, Stdin: o.Stdin, Stdout: pw, Files: o.Files,
		Service: o.Service, Kind: o.Kind,
	})
	pw.Close()
	<-decoded
	if err != nil && !errors.Is(err, ErrIncomplete) {
		return summary, err
	}
	if summary.SnapshotID == "" && err == nil {
		return summary, fmt.Errorf("%w: restic reported no snapshot", ErrFailed)
	}
	return summary, err
}

// SnapshotFilter selects snapshots.
type SnapshotFilter struct {
	// Hosts: a snapshot of any of them matches (none: every host).
	Hosts []string
	// Tags must all be present on a snapshot.
	Tags []string
}

func (f SnapshotFilter) args() []string {
	var args []string
	for _, h := range f.Hosts {
		args = append(args, "--host", h)
	}
	if len(f.Tags) > 0 {
		args = append(args, "--tag", strings.Join(f.Tags, ","))
	}
	return args
}

// Snapshots lists the snapshots that match f, oldest first, as restic does.
func Snapshots(ctx context.Context, r Runner, f SnapshotFilter) ([]Snapshot, error) {
	var out bytes.Buffer
	args := append([]string{"snapshots", "--json", "--no-lock"}, f.args()...)
	if err := r.Run(ctx, Invocation{Args: args, Stdout: &out, Kind: "snapshots"}); err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	var snaps []Snapshot
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &snaps); err != nil {
		return nil, fmt.Errorf("reading restic's snapshot list: %w", err)
	}
	return snaps, nil
}

// KeepPolicy is restic's forget policy; zero fields are unset.
type KeepPolicy struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
	Within                                       string
}

// Empty reports whether the policy keeps nothing explicitly (restic refuses that).
func (k KeepPolicy) Empty() bool {
	return k == KeepPolicy{}
}

func (k KeepPolicy) args() []string {
	var args []string
	for _, kv := range []struct {
		flag string
		n    int
	}{{"--keep-last", k.Last}, {"--keep-hourly", k.Hourly}, {"--keep-daily", k.Daily}, {"--keep-weekly", k.Weekly}, {"--keep-monthly", k.Monthly}, {"--keep-yearly", k.Yearly}} {
		if kv.n > 0 {
			args = append(args, kv.flag, strconv.Itoa(kv.n))
		}
	}
	if k.Within != "" {
		args = append(args, "--keep-within", k.Within)
	}
	return args
}

// ForgetOptions says which snapshots a forget looks at and what it keeps.
type ForgetOptions struct {
	Filter SnapshotFilter
	// GroupBy is restic's --group-by: the series a keep policy applies to.
	GroupBy string
	Keep    KeepPolicy
	Prune   bool
	DryRun  bool
	// IDs forgets these snapshots instead of applying Keep.
	IDs []string
}

// ForgetGroup is restic forget's report on one group of snapshots.
type ForgetGroup struct {
	Tags   []string   `json:"tags"`
	Host   string     `json:"host"`
	Paths  []string   `json:"paths"`
	Keep   []Snapshot `json:"keep"`
	Remove []Snapshot `json:"remove"`
}

// Forget applies a keep policy (grouped by o.GroupBy, within the filter) or forgets the
// given snapshots.
func Forget(ctx context.Context, r Runner, o ForgetOptions) ([]ForgetGroup, error) {
	args := []string{"forget", "--json"}
	if o.GroupBy != "" {
		args = append(args, "--group-by", o.GroupBy)
	}
	if len(o.IDs) > 0 {
		args = append(args, o.IDs...)
	} else {
		if o.Keep.Empty() {
			return nil, fmt.Errorf("forgetting snapshots: no retention policy set")
		}
		args = append(args, o.Filter.args()...)
		args = append(args, o.Keep.args()...)
	}
	if o.Prune {
		args = append(args, "--prune")
	}
	if o.DryRun {
		args = append(args, "--dry-run")
	}
	var out bytes.Buffer
	if err := r.Run(ctx, Invocation{Args: args, Stdout: &out, Kind: "forget"}); err != nil {
		return nil, fmt.Errorf("forgetting snapshots: %w", err)
	}
	var groups []ForgetGroup
	// With --prune, restic prints the prune report after the JSON; read the first line only.
	first, _, _ := bytes.Cut(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(first) > 0 && first[0] == '[' {
		if err := json.Unmarshal(first, &groups); err != nil {
			return nil, fmt.Errorf("reading restic's forget report: %w", err)
		}
	}
	return groups, nil
}

// Kept is what a forget with o's policy (grouped by o.GroupBy, within o.Filter) would
// keep and remove, asked without changing anything and without a lock (--dry-run
// --no-lock): o.IDs and o.Prune are ignored. A copy asks it of its source.
func Kept(ctx context.Context, r Runner, o ForgetOptions) ([]ForgetGroup, error) {
	if o.Keep.Empty() {
		return nil, fmt.Errorf("listing what a retention policy keeps: no policy set")
	}
	args := []string{"forget", "--json", "--dry-run", "--no-lock"}
	if o.GroupBy != "" {
		args = append(args, "--group-by", o.GroupBy)
	}
	args = append(append(args, o.Filter.args()...), o.Keep.args()...)
	var out bytes.Buffer
	if err := r.Run(ctx, Invocation{Args: args, Stdout: &out, Kind: "forget-dry-run"}); err != nil {
		return nil, fmt.Errorf("listing what a retention policy keeps: %w", err)
	}
	var groups []ForgetGroup
	if b := bytes.TrimSpace(out.Bytes()); len(b) > 0 {
		if err := json.Unmarshal(b, &groups); err != nil {
			return nil, fmt.Errorf("reading restic's forget report: %w", err)
		}
	}
	return groups, nil
}

// Check verifies the repository's structure and, with readData (e.g. "10%"), a subset of its data.
func Check(ctx context.Context, r Runner, readData string, out io.Writer) error {
	args := []string{"check"}
	if readData != "" {
		args = append(args, "--read-data-subset", readData)
	}
	if err := r.Run(ctx, Invocation{Args: args, Stdout: out, Kind: "check"}); err != nil {
		return fmt.Errorf("checking the repository: %w", err)
	}
	return nil
}

// DumpOptions say which file of a snapshot restic dump reads, and where it goes.
type DumpOptions struct {
	Snapshot, Path string
	// Stdout receives the file; nil when the helper itself takes it (a dump restore
	// helper: see the runner's Kind).
	Stdout io.Writer
	// Files are placed in the helper (Invocation.Files).
	Files         []File
	Service, Kind string
}

// Dump streams one file of a snapshot.
func Dump(ctx context.Context, r Runner, o DumpOptions) error {
	inv := Invocation{Args: []string{"dump", o.Snapshot, o.Path}, Stdout: o.Stdout, Files: o.Files, Service: o.Service, Kind: o.Kind}
	if err := r.Run(ctx, inv); err != nil {
		return fmt.Errorf("reading %s from snapshot %s: %w", o.Path, ShortID(o.Snapshot), err)
	}
	return nil
}

// ShortID is the first 8 characters of a snapshot ID, as restic shows them.
func ShortID(id string) string { return id[:min(8, len(id))] }

// Prune removes the data no snapshot refers to any more.
func Prune(ctx context.Context, r Runner, out io.Writer) error {
	if err := r.Run(ctx, Invocation{Args: []string{"prune"}, Stdout: out, Kind: "prune"}); err != nil {
		return fmt.Errorf("pruning the repository: %w", err)
	}
	return nil
}
