package plugin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// Flags may follow the services, as docker users write them (see hoistFlags).
func TestRestoreFlagsAfterServices(t *testing.T) {
	var out, errOut bytes.Buffer
	d := &deps{streams: Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, workdir: t.TempDir()}
	err := runApp(context.Background(), []string{"restore", "db", "web@latest", "--to", "scratch"}, d)
	if err == nil || !strings.Contains(err.Error(), "--to restores one service, not 2") {
		t.Errorf("err %v, want --to read after the services", err)
	}
}

// Without a terminal, restore refuses to replace data unless --yes says so, before it
// loads anything or contacts the engine.
func TestRestoreNeedsYesWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	connected := false
	opts := &restoreOptions{
		args:        []string{"db"},
		interactive: func() bool { return false },
		d: &deps{streams: Streams{Out: &out, Err: &out}, dockerClient: func() (dockerAPI, error) {
			connected = true
			return nil, errors.New("unexpected")
		}},
	}
	err := runRestore(context.Background(), opts)
	if exitCode(context.Background(), err) != ExitUsage || !strings.Contains(err.Error(), "--yes") || connected {
		t.Fatalf("err %v (exit %d), connected %v", err, exitCode(context.Background(), err), connected)
	}
	opts.args = []string{"db", "web"}
	opts.restore.To = "x"
	if err := runRestore(context.Background(), opts); exitCode(context.Background(), err) != ExitUsage {
		t.Errorf("--to with two services: %v", err)
	}
}

// A malformed snapshot selector is bad input: exit 2, one line naming the argument,
// before the project is loaded or the engine contacted.
func TestRestoreMalformedSelector(t *testing.T) {
	for arg, want := range map[string]string{
		"pg@zzzz":       `pg@zzzz: "zzzz" is not latest, a snapshot ID or a date`,
		"pg@2026-13-45": `pg@2026-13-45: "2026-13-45" is not a date or time that exists`,
	} {
		var out bytes.Buffer
		opts := &restoreOptions{
			args: []string{arg}, yes: true,
			d: &deps{streams: Streams{Out: &out, Err: &out}, dockerClient: func() (dockerAPI, error) {
				t.Fatal("the engine was contacted")
				return nil, nil
			}},
		}
		err := runRestore(context.Background(), opts)
		if exitCode(context.Background(), err) != ExitUsage || err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("restore %s: %v (exit %d), want exit 2 and %q", arg, err, exitCode(context.Background(), err), want)
		}
	}
}

func TestRestoreConfirm(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "yes\n": true, "\n": false, "n\n": false, "": false} {
		var out bytes.Buffer
		ok, err := confirm(strings.NewReader(in), &out, nil)
		if err != nil || ok != want || !strings.Contains(out.String(), "Continue? [y/N]") {
			t.Errorf("%q: %v %v %q", in, ok, err, out.String())
		}
	}
}
