package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/composeext"
)

func TestParseGlobalFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		rest    []string
		context string
		hosts   []string
	}{
		// As the docker CLI runs a plugin: its global flags, the plugin name, our args.
		{[]string{"--context", "prod", "backup", "up", "-p", "x"}, []string{"up", "-p", "x"}, "prod", nil},
		{[]string{"-H", "tcp://10.0.0.1:2376", "backup", "version"}, []string{"version"}, "", []string{"tcp://10.0.0.1:2376"}},
		{[]string{"-D", "--log-level=debug", "backup", "plan"}, []string{"plan"}, "", nil},
		// Standalone: compose's flags before the command are not docker's and stay ours.
		{[]string{"-p", "shop", "-f", "a.yaml", "up"}, []string{"-p", "shop", "-f", "a.yaml", "up"}, "", nil},
		{[]string{"-c", "prod", "up", "db"}, []string{"up", "db"}, "prod", nil},
	} {
		g, rest, err := parseGlobalFlags(tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !slices.Equal(rest, tc.rest) || g.opts.Context != tc.context || !slices.Equal(g.opts.Hosts, tc.hosts) {
			t.Errorf("%v: rest %v context %q hosts %v, want %v %q %v", tc.args, rest, g.opts.Context, g.opts.Hosts, tc.rest, tc.context, tc.hosts)
		}
	}
}

func TestExitCodes(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{context.Background(), nil, ExitOK},
		{context.Background(), errors.New("boom"), ExitFailure},
		{context.Background(), usageErrorf("bad flag"), ExitUsage},
		{context.Background(), fmt.Errorf("loading: %w", composeext.ErrInvalid), ExitUsage},
		{context.Background(), &exitCodeError{code: ExitFailure}, ExitFailure},
		{cancelled, errors.New("helper killed"), ExitInterrupted},
	} {
		if got := exitCode(tc.ctx, tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestMetadata(t *testing.T) {
	var out bytes.Buffer
	if code := Main([]string{"docker-backup", metadataCommand}, Streams{Out: &out, Err: &out}, "1.2.3"); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["SchemaVersion"] != "0.1.0" || m["Vendor"] == "" || m["Version"] != "1.2.3" {
		t.Errorf("metadata %v", m)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	var out, errOut bytes.Buffer
	d := &deps{streams: Streams{Out: &out, Err: &errOut}, workdir: t.TempDir(),
		dockerClient: func() (dockerAPI, error) { return nil, errors.New("no engine in unit tests") }}
	err := runApp(context.Background(), []string{"frobnicate"}, d)
	if exitCode(context.Background(), err) != ExitUsage || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("err %v, want a usage error naming the command", err)
	}
}

func TestHoistFlags(t *testing.T) {
	app := newApp(&deps{})
	for _, tc := range []struct{ in, want []string }{
		{[]string{"db", "restore", "db", "web@latest", "--yes", "--to", "scratch"}, []string{"db", "restore", "--yes", "--to", "scratch", "db", "web@latest"}},
		{[]string{"db", "-p", "shop", "up", "db", "--json", "--parallel=3"}, []string{"db", "-p", "shop", "up", "--json", "--parallel=3", "db"}},
		{[]string{"db", "up", "-f", "a.yaml", "db"}, []string{"db", "up", "-f", "a.yaml", "db"}},
		{[]string{"db", "restore", "--", "-odd-name"}, []string{"db", "restore", "--", "-odd-name"}},
		{[]string{"db", "nosuchcommand", "x", "--y"}, []string{"db", "nosuchcommand", "x", "--y"}},
	} {
		if got := hoistFlags(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("hoistFlags(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// An app-level flag that takes no value must not swallow the command after it.
func TestHoistFlagsWithABooleanAppFlag(t *testing.T) {
	app := newApp(&deps{})
	app.Flags = append(app.Flags, &cli.BoolFlag{Name: "quiet"})
	in := []string{"db", "--quiet", "-p", "shop", "restore", "db", "--yes"}
	want := []string{"db", "--quiet", "-p", "shop", "restore", "--yes", "db"}
	if got := hoistFlags(app, in); !slices.Equal(got, want) {
		t.Errorf("hoistFlags(%v) = %v, want %v", in, got, want)
	}
}
